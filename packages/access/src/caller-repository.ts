/**
 * The repository a request runs with: the caller's own policy (scopes, custodianship), widened for recipients by what
 * their clients' consents grant right now (every such disclosure audited); the operator's full access with every
 * disclosure audited; a client's own compartment without psychotherapy notes; and the write pipeline
 * (write-pipeline.ts) every write passes, as its caller. Also the two repositories with every right: the server's own
 * jobs', and the one the server keeps its records with while serving a caller.
 */
import { describeCaller, SERVER_WRITER, type Caller, type Writer } from '@carecircle/auth';
import {
  createDisclosureRecorder,
  describesPsychotherapyNote,
  grantsInForce,
  grantsInForceAmongCompartments,
  isPsychotherapyNote,
  patientsVisibleUnder,
  practitionerAt,
  recipientPolicy,
  shownToTheClient,
  withConsentGrants,
  withPartnerAuthorship,
  type AuditConnection,
  type Recipient,
} from '@carecircle/consent';
import {
  allOf,
  bindWritePipeline,
  createRepository,
  fullAccess,
  inPatientCompartment,
  not,
  patientsVisibleAmongCompartments,
  type AccessPolicy,
  type Database,
  type Repository,
  type Transaction,
} from '@carecircle/store';
import type { AccessSettings } from './access-settings';
import { createAccessPolicy } from './caller-access-policy';
import { serverWritePipelineFor, writePipelineFor } from './write-pipeline';

/**
 * The one repository the server's own jobs write with (the worker's steps; store's migrations and tests): every
 * right, its writes judged by the pipeline as the server's own caller (auth's SERVER_CALLER). A lint rule
 * (eslint.config.mjs) keeps it to the worker and tests.
 */
export function createServerRepository(db: Database, settings: AccessSettings): Repository {
  return createRepository(db, fullAccess, { writes: bindWritePipeline(serverWritePipelineFor(settings), SERVER_WRITER) });
}

/**
 * The repository the server keeps its records with while serving `writer` (the audit of a disclosure, a coordinated
 * update's steps, the operator's audit): every right, since they are the server's records, not the writer's; its
 * writes are still judged by the pipeline as `writer`'s (what a Task move or a reference counts as is the writer's).
 * In `transaction` when given.
 */
export function createRecordsRepository(
  db: Database,
  settings: AccessSettings,
  writer: Writer,
  transaction?: Transaction,
  options: { serverBuilt?: boolean } = {},
): Repository {
  return createRepository(db, fullAccess, {
    writes: bindWritePipeline(serverWritePipelineFor(settings), writer),
    ...(transaction && { transaction }),
    serverBuilt: options.serverBuilt ?? false,
  });
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
 * operator's full access, audited; a client's own compartment, psychotherapy notes never. The writes partner workflows
 * allow besides are the write pipeline's (write-pipeline.ts, authorizeWrite).
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
  // The audit is written when something is disclosed, after this policy is made: its writer is the caller seeing through it.
  let policy: AccessPolicy = base;
  // Disclosure and denial events are built by consent's audit-event-shape.ts, validated against R4 and BALP by its tests.
  const auditRepository = (transaction: Transaction | undefined): Repository =>
    createRecordsRepository(db, settings, { caller, policy }, transaction, { serverBuilt: true });
  const audit = { auditRepository, purpose, requestId, now: () => new Date(), connection };
  switch (caller.kind) {
    case 'admin': {
      const recorder = createDisclosureRecorder({ ...audit, recipient: undefined, clientId: undefined, ownPatients: async () => new Set() });
      policy = { ...base, recorder };
      return policy;
    }
    case 'patient':
      policy = withoutPsychotherapyNotes(base, caller.fhirUser);
      return policy;
    case 'system':
    case 'practitioner': {
      const recipient = (await resolveCallerRecipient(db, caller)) as Recipient;
      const grants = { recipient, purpose, now: new Date() };
      const recorder = createDisclosureRecorder({
        ...audit,
        recipient,
        clientId: caller.clientId,
        ownPatients: patientsVisibleUnder(db, base),
        ownClientsColumn: patientsVisibleAmongCompartments(base),
        grantsInForce: (patients, q) => grantsInForce(q ?? db, patients, grants),
        grantsColumn: grantsInForceAmongCompartments(grants),
      });
      policy = withPartnerAuthorship(withConsentGrants(base, grants, recorder), grants);
      return policy;
    }
    default:
      return caller satisfies never;
  }
}

/** The repository for one request by `caller`, acting for `purpose`: its policy, and the write pipeline as `caller`. */
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
  const writes = bindWritePipeline(writePipelineFor(settings), { caller, policy });
  return createRepository(db, policy, { writes, pageTokenKey: settings.pageTokenKey, principal });
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
        return inPatientCompartment(patient);
      }
      const own = base.visibility(resourceType);
      // A record's own labels and what it describes are both in the note_record index: one probe, no content read.
      const noteRecord = describesPsychotherapyNote(resourceType);
      if (own !== undefined && resourceType === 'Composition') {
        // A coordinated update is the practice's draft until it is submitted for the client's approval.
        return allOf(own, not(isPsychotherapyNote()), shownToTheClient());
      }
      return own === undefined ? undefined : allOf(own, not(noteRecord ?? isPsychotherapyNote()));
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
      return allOf(mine, theirs);
    },
    assertWrite: (interaction, next, current, tx) => recipient.assertWrite(interaction, next, current, tx),
  };
  return createRepository(db, policy);
}
