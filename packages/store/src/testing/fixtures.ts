/**
 * Typed fixture builders for the store's tests: small functions returning @medplum/fhirtypes resources, with just
 * enough content to be valid and searchable. Overrides go through the optional `extra` argument.
 */
import type { Observation, Organization, Patient, Practitioner, Task } from '@medplum/fhirtypes';

/** A Patient with one official name. */
export function buildPatient(family: string, given: string, extra: Partial<Patient> = {}): Patient {
  return { resourceType: 'Patient', name: [{ use: 'official', family, given: [given] }], ...extra };
}

/** An Organization with a name. */
export function buildOrganization(name: string, extra: Partial<Organization> = {}): Organization {
  return { resourceType: 'Organization', name, ...extra };
}

/** A Practitioner with a name. */
export function buildPractitioner(family: string, extra: Partial<Practitioner> = {}): Practitioner {
  return { resourceType: 'Practitioner', name: [{ family }], ...extra };
}

/** A final LOINC Observation about `patientId`, effective at `effective`. */
export function buildObservation(patientId: string, code: string, effective: string, extra: Partial<Observation> = {}): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: effective,
    ...extra,
  };
}

/** A requested fulfilment Task for `patientId`, optionally focused on another resource. */
export function buildTask(patientId: string, extra: Partial<Task> = {}): Task {
  return { resourceType: 'Task', status: 'requested', intent: 'order', for: { reference: `Patient/${patientId}` }, ...extra };
}
