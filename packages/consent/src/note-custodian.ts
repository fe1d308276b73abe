/**
 * Psychotherapy notes stay with the practice that holds them (contract: they never leave the custodian): every version
 * labelled a psychotherapy note leaves the write stamped, in `meta.extension` {@link NOTE_CUSTODIAN_URL}, with the
 * practice managing its client when the note was first written, and keeps that stamp for good. A practice sees a note
 * only with its own stamp (access's caller-access-policy.ts), so a client who moves to another practice does not take
 * the old practice's notes along. A stamp sent by a writer is replaced; on anything that is not a note it is dropped.
 *
 * Runs after {@link applyShareLabels}, so it judges the labels the version will carry.
 */
import { NOTE_CUSTODIAN_URL } from '@carecircle/fhir';
import { computePatientCompartments, readPatientCustodian, type Queryable, type WriteRule } from '@carecircle/store';
import type { Extension, Resource } from '@medplum/fhirtypes';
import { isPsychotherapyNoteResource } from './share-category';

export const stampNoteCustodian: WriteRule = async (next, current, tx) => {
  const others = (next.meta?.extension ?? []).filter((e) => e.url !== NOTE_CUSTODIAN_URL);
  let stamp: Extension | undefined;
  if (isPsychotherapyNoteResource(next)) {
    stamp = current?.meta?.extension?.find((e) => e.url === NOTE_CUSTODIAN_URL) ?? (await custodianStamp(tx, next));
  }
  const extension = stamp ? [...others, stamp] : others;
  if (next.meta && (extension.length > 0 || next.meta.extension)) {
    next.meta = { ...next.meta, extension };
    if (extension.length === 0) {
      delete next.meta.extension;
    }
  }
};

/** The stamp naming the practice that manages the note's client now (the first client's, for a note about several). */
async function custodianStamp(tx: Queryable, note: Resource): Promise<Extension | undefined> {
  const patient = computePatientCompartments(note)[0];
  if (!patient) {
    return undefined;
  }
  const organization = await readPatientCustodian(tx, patient.slice('Patient/'.length));
  return organization ? { url: NOTE_CUSTODIAN_URL, valueReference: { reference: organization } } : undefined;
}
