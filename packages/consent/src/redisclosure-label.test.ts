import type { Bundle, Observation } from '@medplum/fhirtypes';
import { NO_REDISCLOSURE_LABEL } from './coordinated-update-terms';
import { markAgainstRedisclosure, markBundleAgainstRedisclosure } from './redisclosure-label';

const R = { system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' };
const observation = (): Observation => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, meta: { versionId: '3', security: [R] } });

test('a resource shown to a partner keeps its labels and gains NORDSCLCD once', () => {
  const shown = observation();
  markAgainstRedisclosure(shown);
  markAgainstRedisclosure(shown);
  expect(shown.meta).toEqual({ versionId: '3', security: [R, NO_REDISCLOSURE_LABEL] });
});

test('a Bundle is marked when an entry is, and a document its Composition too', () => {
  const marked = observation();
  markAgainstRedisclosure(marked);
  const document: Bundle = {
    resourceType: 'Bundle',
    type: 'document',
    entry: [{ resource: { resourceType: 'Composition', status: 'final', type: {}, date: '2026-12-07', author: [], title: 't' } }, { resource: marked }],
  };
  markBundleAgainstRedisclosure(document);
  expect(document.meta?.security).toEqual([NO_REDISCLOSURE_LABEL]);
  expect(document.entry?.[0]?.resource?.meta?.security).toEqual([NO_REDISCLOSURE_LABEL]);
});

test("the custodian's own answers stay unmarked", () => {
  const searchset: Bundle = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: observation() }] };
  markBundleAgainstRedisclosure(searchset);
  expect(searchset.meta).toBeUndefined();
});
