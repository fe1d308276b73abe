/**
 * The repository a request runs with: the caller's own policy (scopes, custodianship), widened for recipients by what
 * their clients' consents grant right now (every such disclosure audited), plus the writes partner workflows allow;
 * and the write rules every write passes, whoever writes.
 */
import { createAccessPolicy, type Caller } from '@carecircle/auth';
import type { Config } from '@carecircle/config';
import {
  callerAgent,
  checkConsultNote,
  enforceTaskWorkflow,
  isPartnerWorkflowWrite,
  withCarePlanProvenance,
  type OrganizationCaller,
} from '@carecircle/care';
import {
  applyShareLabels,
  checkSharingConsent,
  createDisclosureRecorder,
  loadGrants,
  recipientPolicy,
  withConsentGrants,
  type Recipient,
} from '@carecircle/consent';
import { OperationOutcomeError } from '@carecircle/fhir';
import { createExtractSubscriptionSecret } from '@carecircle/notify';
import {
  createRepository,
  fullAccess,
  isVisibleTo,
  type AccessPolicy,
  type Database,
  type Repository,
  type WriteRule,
} from '@carecircle/store';

export interface AccessSettings {
  /** Allow http:// subscription endpoints on loopback (development only). */
  allowLoopbackHttp: boolean;
}

/** The access settings of a configuration. */
export function accessSettingsFrom(config: Pick<Config, 'notify'>): AccessSettings {
  return { allowLoopbackHttp: config.notify.allowLoopbackHttp };
}

/** Rules every write passes, in order: labels, consent well-formedness, the referral workflow, subscriptions. */
export function writeRulesFor(settings: AccessSettings): readonly WriteRule[] {
  return [
    applyShareLabels,
    checkSharingConsent,
    enforceTaskWorkflow,
    checkConsultNote,
    createExtractSubscriptionSecret({ allowLoopbackHttp: settings.allowLoopbackHttp }),
  ];
}

/** A repository with the server's own access (audit writes, jobs); still subject to the write rules. */
export function createServerRepository(db: Database, settings: AccessSettings): Repository {
  return createRepository(db, fullAccess, { writeRules: writeRulesFor(settings) });
}

/** The recipient a caller is, when consents can name it: a partner's system or practitioner. */
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

/** The access policy of `caller` for `purpose`: its own, widened by its consent grants (audited) for recipients. */
export async function callerPolicy(
  db: Database,
  settings: AccessSettings,
  caller: Caller,
  purpose: string,
  requestId: string,
): Promise<AccessPolicy> {
  const base = createAccessPolicy(caller);
  if (caller.kind !== 'system' && caller.kind !== 'practitioner') {
    return base;
  }
  const recipient = recipientOf(caller) as Recipient;
  const grants = await loadGrants(db, recipient, purpose, new Date());
  const recorder = createDisclosureRecorder({
    auditRepository: createServerRepository(db, settings),
    recipient,
    clientId: caller.clientId,
    purpose,
    requestId,
    now: () => new Date(),
    grantedPatients: new Set(grants.map((g) => g.patient)),
  });
  return withPartnerWorkflows(withConsentGrants(base, grants, recorder), caller);
}

/** The repository for one request by `caller`, acting for `purpose`. */
export async function createCallerRepository(
  db: Database,
  settings: AccessSettings,
  caller: Caller,
  purpose: string,
  requestId: string,
): Promise<Repository> {
  const policy = await callerPolicy(db, settings, caller, purpose, requestId);
  return withCarePlanProvenance(createRepository(db, policy, { writeRules: writeRulesFor(settings) }), callerAgent(caller));
}

/**
 * `policy`, plus the writes a partner may make about clients it does not manage (referral Tasks it owns, consult notes
 * and replies to its referrals, progress on care plans it sees), judged by @carecircle/care against what it sees now.
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
          return;
        }
        throw err;
      }
    },
  };
}

/** A read-only view of what `recipient` may see now, for previews: nothing is disclosed, so nothing is audited. */
export async function createRecipientView(db: Database, recipient: Recipient, purpose: string): Promise<Repository> {
  const grants = await loadGrants(db, recipient, purpose, new Date());
  return createRepository(db, recipientPolicy(grants));
}
