/**
 * The repository a request runs with: the caller's own policy (scopes, custodianship), widened for recipients by what
 * their clients' consents grant right now (every such disclosure audited), plus the writes partner workflows allow;
 * the operator's full access with every disclosure audited; a client's own compartment without psychotherapy notes;
 * and the write rules every write passes, whoever writes.
 */
import { createAccessPolicy, describeCaller, type Caller } from '@carecircle/auth';
import type { Config } from '@carecircle/config';
import {
  callerAgent,
  checkConsultNote,
  checkCoordinatedUpdate,
  checkReferralUpdate,
  enforceTaskWorkflow,
  checkBusinessHours,
  fileConsultNoteUnderReferral,
  isPartnerWorkflowWrite,
  withCarePlanProvenance,
  withUpdateDraftRecords,
  type OrganizationCaller,
} from '@carecircle/care';
import {
  applyShareLabels,
  checkSharingConsent,
  createDisclosureRecorder,
  describesPsychotherapyNote,
  grantsInForce,
  indexConsentGrants,
  indexNoteRecords,
  isPsychotherapyNote,
  isPsychotherapyNoteResource,
  patientsVisibleUnder,
  practitionerAt,
  recipientPolicy,
  recordPartnerAuthorship,
  refuseReferencesToPsychotherapyNotes,
  shownToTheClient,
  stampNoteCustodian,
  withConsentGrants,
  withPartnerAuthorship,
  type AuditConnection,
  type Recipient,
} from '@carecircle/consent';
import { forbidden, OperationOutcomeError, statusOf } from '@carecircle/fhir';
import { createExtractSubscriptionSecret } from '@carecircle/notify';
import {
  createRepository,
  fullAccess,
  isVisibleTo,
  sql,
  type AccessPolicy,
  type Database,
  type Repository,
  type WriteRule,
  type Transaction,
} from '@carecircle/store';

export interface AccessSettings {
  /** Allow http:// subscription endpoints on loopback (development only). */
  allowLoopbackHttp: boolean;
  /** The key that signs `_page` tokens, shared by every replica (absent: one of this process, for tests). */
  pageTokenKey?: Uint8Array;
}

/** The access settings of a configuration. */
export function accessSettingsFrom(config: Pick<Config, 'notify' | 'pageTokenKey'>): AccessSettings {
  return { allowLoopbackHttp: config.notify.allowLoopbackHttp, pageTokenKey: config.pageTokenKey };
}

/**
 * Rules every write passes, in order: a consult note filed as its referral, a coordinated update's lifecycle and content, labels, the note-record index, consent well-formedness and the consent-grant index (written in the
 * Consent's own transaction), the referral workflow, subscriptions.
 */
export function writeRulesFor(settings: AccessSettings): readonly WriteRule[] {
  return [
    fileConsultNoteUnderReferral,
    // Before the labels: a coordinated update is labelled as its sections (coordinated-update/update-write-rule.ts).
    checkCoordinatedUpdate,
    applyShareLabels,
    stampNoteCustodian,
    indexNoteRecords,
    refuseReferencesToPsychotherapyNotes,
    checkSharingConsent,
    indexConsentGrants,
    enforceTaskWorkflow,
    checkConsultNote,
    checkReferralUpdate,
    checkBusinessHours,
    createExtractSubscriptionSecret({ allowLoopbackHttp: settings.allowLoopbackHttp }),
  ];
}

/** A repository with the server's own access (audit writes, jobs); still subject to the write rules. */
export function createServerRepository(db: Database, settings: AccessSettings): Repository {
  return createRepository(db, fullAccess, { writeRules: writeRulesFor(settings) });
}

/**
 * The recipient a caller is, when consents can name it: a partner's system (its organization) or practitioner (its
 * organization and itself). Its PractitionerRoles are added by {@link resolveCallerRecipient}.
 */
export function recipientOf(caller: Caller): Recipient | undefined {
  switch (caller.kind) {
    case 'system':
      return { organization: caller.organization };
    case 'practitioner':
      return { organization: caller.organization, practitioner: caller.fhirUser };
    case 'admin':
    case 'patient':
      return undefined;
    default:
      return caller satisfies never;
  }
}

/**
 * The recipient a caller is, complete: for a practitioner also its active PractitionerRoles at the organization its
 * token is for (a consent naming one of them names this practitioner, not the organization's systems).
 */
export async function resolveCallerRecipient(db: Database, caller: Caller): Promise<Recipient | undefined> {
  return caller.kind === 'practitioner' ? practitionerAt(db, caller.fhirUser, caller.organization) : recipientOf(caller);
}

/**
 * The access policy of `caller` for `purpose`: its own, widened by its consent grants (audited) for recipients; the
 * operator's full access, audited; a client's own compartment, psychotherapy notes never.
 */
export async function callerPolicy(
  db: Database,
  settings: AccessSettings,
  caller: Caller,
  purpose: string,
  requestId: string,
  connection?: AuditConnection,
): Promise<AccessPolicy> {
  const base = createAccessPolicy(caller);
  const auditRepository = (transaction: Transaction | undefined): Repository =>
    createRepository(db, fullAccess, { writeRules: writeRulesFor(settings), ...(transaction && { transaction }) });
  const audit = { auditRepository, purpose, requestId, now: () => new Date(), connection };
  switch (caller.kind) {
    case 'admin': {
      const recorder = createDisclosureRecorder({ ...audit, recipient: undefined, clientId: undefined, ownPatients: async () => new Set() });
      return { ...base, recorder };
    }
    case 'patient':
      return withoutPsychotherapyNotes(base, caller.fhirUser);
    case 'system':
    case 'practitioner': {
      const recipient = (await resolveCallerRecipient(db, caller)) as Recipient;
      const grants = { recipient, purpose, now: new Date() };
      const recorder = createDisclosureRecorder({
        ...audit,
        recipient,
        clientId: caller.clientId,
        ownPatients: patientsVisibleUnder(db, base),
        grantsInForce: (patients, q) => grantsInForce(q ?? db, patients, grants),
      });
      return withPartnerWorkflows(withPartnerAuthorship(withConsentGrants(base, grants, recorder), grants), caller);
    }
    default:
      return caller satisfies never;
  }
}

/** The repository for one request by `caller`, acting for `purpose`. */
export async function createCallerRepository(
  db: Database,
  settings: AccessSettings,
  caller: Caller,
  purpose: string,
  requestId: string,
  connection?: AuditConnection,
): Promise<Repository> {
  const policy = await callerPolicy(db, settings, caller, purpose, requestId, connection);
  // `_page` tokens are bound to the caller and the purpose, which together decide what a search shows.
  const principal = JSON.stringify([describeCaller(caller), purpose]);
  const repository = createRepository(db, policy, { writeRules: writeRulesFor(settings), pageTokenKey: settings.pageTokenKey, principal });
  return withUpdateDraftRecords(withCarePlanProvenance(repository, callerAgent(caller)), callerAgent(caller));
}

/**
 * A client's policy with psychotherapy notes left out by their security label too (PSYTHPN on this or a later
 * version, whatever the category), and the client's own Consents always visible: a consent is never hidden from the
 * client it belongs to, so the client can always see and revoke it.
 */
function withoutPsychotherapyNotes(base: AccessPolicy, patient: string): AccessPolicy {
  return {
    ...base,
    visibility(resourceType) {
      if (resourceType === 'Consent') {
        return sql`rv.compartments @> ARRAY[${patient}::text]`;
      }
      const own = base.visibility(resourceType);
      // A record's own labels and what it describes are both in the note_record index: one probe, no content read.
      const noteRecord = describesPsychotherapyNote(resourceType);
      if (own !== undefined && resourceType === 'Composition') {
        // A coordinated update is the practice's draft until it is submitted for the client's approval.
        return sql`((${own}) AND NOT ${isPsychotherapyNote()} AND ${shownToTheClient()})`;
      }
      return own === undefined ? undefined : sql`((${own}) AND NOT ${noteRecord ?? isPsychotherapyNote()})`;
    },
  };
}

/**
 * `policy`, plus the writes a partner may make about clients it does not manage (referral Tasks it owns, consult notes
 * and replies to its referrals, progress on care plans it sees), judged by @carecircle/care against what it sees now.
 * Only the custodian uses the psychotherapy-notes category: a partner's write naming it is refused (403). What such a
 * write creates is recorded as the partner organization's own, in the write's transaction, so it reads it back
 * (withPartnerAuthorship); a Task it moves stays the practice's.
 */
function withPartnerWorkflows(policy: AccessPolicy, caller: OrganizationCaller): AccessPolicy {
  return {
    ...policy,
    async assertWrite(interaction, next, current, tx) {
      try {
        await policy.assertWrite(interaction, next, current, tx);
      } catch (err) {
        const visible = (resourceType: string, id: string) => isVisibleTo(tx, policy, resourceType, id);
        if (err instanceof OperationOutcomeError && (await isPartnerWorkflowWrite({ caller, interaction, next, current, tx, visible }))) {
          if (isPsychotherapyNoteResource(next)) {
            throw new OperationOutcomeError(forbidden);
          }
          if (interaction === 'create' && next) {
            await recordPartnerAuthorship(tx, caller.organization, next);
          }
          return;
        }
        // A resource the caller may read but not change: 403, not the 404 that hides what it may not even see.
        if (err instanceof OperationOutcomeError && current?.id && statusOf(err.outcome) === 404 && (await visible(current.resourceType, current.id))) {
          throw new OperationOutcomeError(forbidden);
        }
        throw err;
      }
    },
  };
}

/**
 * A read-only view of what any of `recipients` may see now, for previews: nothing is disclosed, so nothing is
 * audited. Limited further by `within`, the policy of whoever asks for the preview, so a preview never shows the asker
 * a type its own scopes do not let it read.
 */
export function createRecipientView(db: Database, recipients: readonly Recipient[], purpose: string, within: AccessPolicy = fullAccess): Repository {
  const now = new Date();
  // What each recipient's token gets: what its consents grant, and what its organization wrote (partner-authorship.ts).
  const recipient = recipients.reduce(
    (shown, one) => withPartnerAuthorship(shown, { recipient: one, purpose, now }),
    recipientPolicy(recipients, purpose, now),
  );
  const policy: AccessPolicy = {
    assertInteraction(interaction, resourceType) {
      within.assertInteraction(interaction, resourceType);
      recipient.assertInteraction(interaction, resourceType);
    },
    visibility(resourceType) {
      const mine = within.visibility(resourceType);
      const theirs = recipient.visibility(resourceType);
      if (mine === undefined || theirs === undefined) {
        return mine ?? theirs;
      }
      return sql`((${mine}) AND (${theirs}))`;
    },
    assertWrite: (interaction, next, current, tx) => recipient.assertWrite(interaction, next, current, tx),
  };
  return createRepository(db, policy);
}
