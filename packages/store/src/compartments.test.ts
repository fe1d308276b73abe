import { loadFhirDefinitions } from '@carecircle/fhir';
import type { Observation } from '@medplum/fhirtypes';
import { computePatientCompartments, handedOutWhole, patientCompartmentsOf } from './compartments';

beforeAll(() => {
  loadFhirDefinitions();
});

const observation = (): Observation => ({
  resourceType: 'Observation',
  id: 'o1',
  status: 'final',
  code: { text: 'x' },
  subject: { reference: 'Patient/p1' },
  performer: [{ reference: 'Patient/p2' }, { reference: 'Practitioner/d1' }],
});

test('the compartments of a resource are those its compartment parameters reference, sorted', () => {
  expect(computePatientCompartments(observation())).toEqual(['Patient/p1', 'Patient/p2']);
  expect(patientCompartmentsOf(observation())).toEqual(['Patient/p1', 'Patient/p2']);
});

test('a version handed out whole answers with the compartments stored with it, not evaluated again', () => {
  // A stored list that differs from what the content says, so that the test can tell which one is answered.
  const handedOut = handedOutWhole(observation(), ['Patient/p1']);
  expect(patientCompartmentsOf(handedOut)).toEqual(['Patient/p1']);
  // Another object with the same content is not the version handed out.
  expect(patientCompartmentsOf(observation())).toEqual(['Patient/p1', 'Patient/p2']);
});
