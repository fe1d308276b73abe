/**
 * Small typed builders for test resources, the only ones the suites use. `build*` returns a realistic resource with
 * sensible defaults that a test overrides only where the behaviour under test cares; `minimal*` returns the smallest
 * valid, searchable resource with just what its arguments name, for tests that count matches or sort on elements a
 * default would fill (the store's search, paging and history suites).
 */
import type { Observation, Organization, Patient, Practitioner, Task } from '@medplum/fhirtypes';

/** A therapy practice or partner clinic. */
export function buildOrganization(overrides: Partial<Organization> = {}): Organization {
  return { resourceType: 'Organization', active: true, name: 'Riverside Sex Therapy', ...overrides };
}

/** A client (patient). */
export function buildPatient(overrides: Partial<Patient> = {}): Patient {
  return {
    resourceType: 'Patient',
    name: [{ family: 'Rivera', given: ['Alex'] }],
    gender: 'other',
    birthDate: '1990-04-12',
    ...overrides,
  };
}

/** A clinician. */
export function buildPractitioner(overrides: Partial<Practitioner> = {}): Practitioner {
  return { resourceType: 'Practitioner', name: [{ family: 'Okafor', given: ['Ngozi'] }], ...overrides };
}

/** A homework-adherence observation about `patientId`. */
export function buildObservation(patientId: string, overrides: Partial<Observation> = {}): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '89574-8', display: 'Exercise adherence' }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: '2026-03-01T10:00:00Z',
    valueQuantity: { value: 80, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
    ...overrides,
  };
}

/** A task for `patientId`. */
export function buildTask(patientId: string, overrides: Partial<Task> = {}): Task {
  return { resourceType: 'Task', status: 'requested', intent: 'order', for: { reference: `Patient/${patientId}` }, ...overrides };
}

/** The smallest Patient: one official name. */
export function minimalPatient(family: string, given: string, extra: Partial<Patient> = {}): Patient {
  return { resourceType: 'Patient', name: [{ use: 'official', family, given: [given] }], ...extra };
}

/** The smallest Organization: a name. */
export function minimalOrganization(name: string, extra: Partial<Organization> = {}): Organization {
  return { resourceType: 'Organization', name, ...extra };
}

/** The smallest Practitioner: a family name. */
export function minimalPractitioner(family: string, extra: Partial<Practitioner> = {}): Practitioner {
  return { resourceType: 'Practitioner', name: [{ family }], ...extra };
}

/** The smallest final Observation about `patientId`: a LOINC `code`, effective at `effective`, no value. */
export function minimalObservation(patientId: string, code: string, effective: string, extra: Partial<Observation> = {}): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: effective,
    ...extra,
  };
}
