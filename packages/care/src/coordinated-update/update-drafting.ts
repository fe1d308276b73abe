/**
 * Drafting is recorded: a record stage of the write pipeline (access's write-pipeline.ts) that, for every create,
 * update or patch of a coordinated update (which the write rule holds to drafts), writes the step's Provenance and
 * AuditEvent (`drafted`, `edited`) in the same transaction, through the same repository, as recordCarePlanProvenance
 * records care-plan changes; and a delete rule: only a draft is deleted (the write rules do not see deletions), an
 * update once submitted stays on record (422).
 */
import type { Writer } from '@carecircle/auth';
import type { DeleteRule, WriteRecord } from '@carecircle/store';
import { refuseUnprocessable } from '../care-outcomes';
import { callerAgent } from '../provenance-record';
import { isCoordinatedUpdate, stateOf } from './update-facts';
import { updateAuditEvent, updateProvenance } from './update-records';

/** Records who (`writer`) drafted or edited each coordinated update, and when. */
export const recordUpdateDrafting: WriteRecord<Writer> = {
  appliesTo: isCoordinatedUpdate,
  record: async ({ written, repository }, writer) => {
    // appliesTo has said so; asked again for the Composition type.
    if (!isCoordinatedUpdate(written)) {
      return;
    }
    const event = written.meta?.versionId === '1' ? 'drafted' : 'edited';
    const agent = callerAgent(writer.caller);
    const now = new Date();
    await repository.create(updateProvenance(written, event, agent, now));
    await repository.create(updateAuditEvent(written, event, agent, now));
  },
};

/** Only a draft update is deleted: 422 for one submitted, released, declined or withdrawn. */
export const deleteOnlyDraftUpdates: DeleteRule<Writer> = (current) => {
  if (isCoordinatedUpdate(current) && (stateOf(current) ?? 'draft') !== 'draft') {
    refuseUnprocessable('Only a draft update is deleted: withdraw one awaiting approval ($withdraw); a released, declined or withdrawn one stays on record', 'Composition');
  }
};
