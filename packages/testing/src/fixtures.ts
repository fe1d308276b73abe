/**
 * Small typed builders for test resources: each returns a valid resource with sensible defaults that a test
 * overrides only where the behaviour under test cares.
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
