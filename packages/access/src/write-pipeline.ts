/**
 * The write pipeline: what every create, update, patch and delete passes inside the repository, in this order, read
 * top to bottom. Each stage is a typed function handed the writer explicitly (auth's Writer: the caller, and the policy
 * that what the write names is judged by), never taken from the request context. The repository's own steps (marked
 * "store") run between the stages declared here (store's write-pipeline.ts runs them):
 *
 *   1. scopes               store: the policy's assertInteraction (the caller's SMART scopes), before any database work
 *   2. R4 structure         store: the resource is well-formed before anything reads it
 *   3. custody and consent  {@link authorizeWrite}: the policy's write check (custodianship, consent), and the partner
 *                           workflows it admits besides
 *   4. workflow rules and labels, in the order of {@link writePipelineFor}'s `rules` (deletions: `deleteRules`)
 *   5. validation           store: the whole validation, profiles included, of what the rules left
 *   6. version and outbox   store: the next version, its search index, its outbox event (with the request's id) and
 *                           the inserts the rules asked to make with it (note_record rows), by one statement
 *   7. records              Provenance of care-plan changes, a coordinated update's drafting steps
 *
 * A caller's repository runs all of it; what the server writes itself (its jobs, the records it keeps while serving a
 * caller) runs {@link serverWritePipelineFor}: the same stages 1-6, without the records and delete rules of a caller's
 * own writes (a workflow step the server takes records itself, update-workflow.ts).
 */
import { SERVER_WRITER, type Writer } from '@carecircle/auth';
import {
  checkBusinessHours,
  checkConsultNote,
  checkCoordinatedUpdate,
  checkReferralUpdate,
  deleteOnlyDraftUpdates,
  enforceTaskWorkflow,
  fileConsultNoteUnderReferral,
  isPartnerWorkflowWrite,
  recordCarePlanProvenance,
  recordUpdateDrafting,
} from '@carecircle/care';
import {
  applyShareLabels,
  checkSharingConsent,
  indexConsentGrants,
  indexNoteRecords,
  isPsychotherapyNoteResource,
  recordPartnerAuthorship,
  refuseReferencesToPsychotherapyNotes,
  stampNoteCustodian,
} from '@carecircle/consent';
import { forbidden, OperationOutcomeError, statusOf } from '@carecircle/fhir';
import { createExtractSubscriptionSecret } from '@carecircle/notify';
import { isVisibleTo, type WriteAuthorization, type WritePipeline } from '@carecircle/store';
import type { AccessSettings } from './access-settings';

/** The pipeline of a caller's writes (stages 3, 4 and 7; the module comment has the whole order). */
export function writePipelineFor(settings: AccessSettings): WritePipeline<Writer> {
  return {
    authorize: authorizeWrite,
    rules: [
      // A consult note is filed as its referral, before the labels.
      fileConsultNoteUnderReferral,
      // Before the labels: a coordinated update is labelled as its sections (coordinated-update/update-write-rule.ts).
      checkCoordinatedUpdate,
      applyShareLabels,
      stampNoteCustodian,
      indexNoteRecords,
      refuseReferencesToPsychotherapyNotes,
      // Consent well-formedness, and the consent-grant index written in the Consent's own transaction.
      checkSharingConsent,
      indexConsentGrants,
      // The referral workflow.
      enforceTaskWorkflow,
      checkConsultNote,
      checkReferralUpdate,
      checkBusinessHours,
      // Subscriptions: settings, lifecycle, the signing secret moved out of the resource; the server's own jobs move
      // the status (handshake, failures) of what a client wrote.
      createExtractSubscriptionSecret<Writer>({ allowLoopbackHttp: settings.allowLoopbackHttp, isServer: (writer) => writer === SERVER_WRITER }),
    ],
    deleteRules: [deleteOnlyDraftUpdates],
    records: [recordCarePlanProvenance, recordUpdateDrafting],
  };
}

/** The pipeline of what the server writes itself: a caller's, without its records and delete rules. */
export function serverWritePipelineFor(settings: AccessSettings): WritePipeline<Writer> {
  return { ...writePipelineFor(settings), deleteRules: [], records: [] };
}

/**
 * Stage 3, custody and consent: the policy's write check; for a partner's system or practitioner, also the writes
 * partner workflows allow about clients it does not manage (referral Tasks it owns, consult notes and replies to its
 * referrals, progress on care plans it sees), judged by @carecircle/care against what it sees now. Only the custodian
 * uses the psychotherapy-notes category: a partner's write naming it is refused (403). What such a write creates is
 * recorded as the partner organization's own, in the write's transaction, so it reads it back (partner-authorship.ts);
 * a Task it moves stays the practice's. A resource the partner may read but not change is 403, not the 404 that hides
 * what it may not even see.
 */
export const authorizeWrite: WriteAuthorization<Writer> = async ({ interaction, next, current, tx, policy }, { caller }) => {
  try {
    await policy.assertWrite(interaction, next, current, tx);
  } catch (err) {
    if (!(err instanceof OperationOutcomeError) || (caller.kind !== 'system' && caller.kind !== 'practitioner')) {
      throw err;
    }
    const visible = (resourceType: string, id: string) => isVisibleTo(tx, policy, resourceType, id);
    if (await isPartnerWorkflowWrite({ caller, interaction, next, current, tx, visible })) {
      if (isPsychotherapyNoteResource(next)) {
        throw new OperationOutcomeError(forbidden);
      }
      if (interaction === 'create' && next) {
        await recordPartnerAuthorship(tx, caller.organization, next);
      }
      return;
    }
    if (current?.id && statusOf(err.outcome) === 404 && (await visible(current.resourceType, current.id))) {
      throw new OperationOutcomeError(forbidden);
    }
    throw err;
  }
};
