/**
 * The repository a request runs with: the caller's own policy (scopes, custodianship), widened for recipients by what
 * their clients' consents grant right now, with every disclosure audited; and the write rules every write passes.
 */
import { createAccessPolicy, type Caller } from '@carecircle/auth';
import {
  applyShareLabels,
  checkSharingConsent,
  createDisclosureRecorder,
  loadGrants,
  recipientPolicy,
  withConsentGrants,
  type Recipient,
} from '@carecircle/consent';
import {
  callerAgent,
  checkConsultNote,
  enforceTaskWorkflow,
  isPartnerWorkflowWrite,
  withCarePlanProvenance,
  type OrganizationCaller,
} from '@carecircle/care';
import { OperationOutcomeError } from '@carecircle/fhir';
import { createRepository, fullAccess, isVisibleTo, type AccessPolicy, type Repository, type WriteRule } from '@carecircle/store';
import type { AppServices } from './app-services';

/** Rules every write passes, whoever writes: labels first, then the consent's and the referral workflow's rules. */
export const WRITE_RULES: readonly WriteRule[] = [applyShareLabels, checkSharingConsent, enforceTaskWorkflow, checkConsultNote];

/** A repository with the server's own access (audit writes, jobs); still subject to the write rules. */
export function createServerRepository(services: Pick<AppServices, 'db'>): Repository {
  return createRepository(services.db, fullAccess, { writeRules: WRITE_RULES });
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

/** The repository for one request by `caller`, acting for `purpose`. */
export async function createCallerRepository(
  services: Pick<AppServices, 'db'>,
  caller: Caller,
  purpose: string,
  requestId: string,
): Promise<Repository> {
  let policy: AccessPolicy = createAccessPolicy(caller);
  const recipient = recipientOf(caller);
  if (recipient && caller.kind !== 'admin' && caller.kind !== 'patient') {
    const now = new Date();
    const grants = await loadGrants(services.db, recipient, purpose, now);
    const recorder = createDisclosureRecorder({
      auditRepository: createServerRepository(services),
      recipient,
      clientId: caller.clientId,
      purpose,
      requestId,
      now: () => new Date(),
      grantedPatients: new Set(grants.map((g) => g.patient)),
    });
    policy = withPartnerWorkflows(withConsentGrants(policy, grants, recorder), caller);
  }
  return withCarePlanProvenance(createRepository(services.db, policy, { writeRules: WRITE_RULES }), callerAgent(caller));
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
export async function createRecipientView(services: Pick<AppServices, 'db'>, recipient: Recipient, purpose: string): Promise<Repository> {
  const grants = await loadGrants(services.db, recipient, purpose, new Date());
  return createRepository(services.db, recipientPolicy(grants));
}
