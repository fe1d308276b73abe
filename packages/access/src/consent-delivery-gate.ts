/**
 * The delivery gate for notifications (DESIGN.md: queued notifications are checked again at delivery): a subscriber
 * learns of a resource only if it may read it at that moment — as the client's custodian, or under a consent in force
 * now — and only of the exact version the event is about. "It" is the subscription's principal: the client (and
 * practitioner) that last wrote the Subscription, with that token's scopes and purposes of use (the first purpose,
 * else treatment), and only while that client and user are enabled.
 *
 * Both questions go through the subscriber's own access-bound repository (scopes, custodianship, consent grants), as a
 * vread of the event's version, so what a full-resource notification carries is exactly what that read returned (a
 * partner is shown a Consent naming it without the other recipients or the signed form), and the subscription's
 * filters are judged on that same read at matching: there is no second, unchecked read. At delivery the read is a disclosure and is audited like a read over the API; a refused
 * read leaves no AuditEvent (a withheld notification is not a request by the subscriber, and the client's audit trail
 * should not fill with denials nobody asked for). At matching nothing is recorded at all.
 */
import { isTokenHolderEnabled, resolvePurposeOfUse } from '@carecircle/auth';
import { OperationOutcomeError } from '@carecircle/fhir';
import type { DeliveryFocus, DeliveryGate } from '@carecircle/notify';
import { createRepository, type AccessPolicy, type AccessRecorder, type Database } from '@carecircle/store';
import type { Resource, Subscription } from '@medplum/fhirtypes';
import type { AccessSettings } from './access-settings';
import { callerPolicy } from './caller-repository';
import { subscriptionCaller } from './subscription-ownership';

/** What the subscriber's reads leave in the audit trail. */
type Recording = 'nothing' | 'disclosures';

/** The gate the worker asks before it numbers or sends anything about `focus` to a subscription's endpoint. */
export function createConsentDeliveryGate(db: Database, settings: AccessSettings): DeliveryGate {
  return {
    async canSee(subscription, focus, passes) {
      const shown = await readAsSubscriber(db, settings, subscription, focus, 'nothing');
      return shown !== undefined && (passes?.(shown) ?? true);
    },
    async release(subscription, focus) {
      const resource = await readAsSubscriber(db, settings, subscription, focus, 'disclosures');
      return resource ? { kind: 'deliver', resource } : { kind: 'withhold' };
    },
  };
}

/** The event's version as the subscription's owner may read it now; undefined when it may not. */
async function readAsSubscriber(
  db: Database,
  settings: AccessSettings,
  subscription: Subscription,
  focus: DeliveryFocus,
  recording: Recording,
): Promise<Resource | undefined> {
  const principal = subscriptionCaller(subscription);
  if (!principal || !(await isTokenHolderEnabled(db, principal.clientId, principal.kind === 'practitioner' ? principal.userId : undefined))) {
    return undefined;
  }
  // Audited as the subscription (the channel the disclosure went through), with the principal's organization and user.
  const caller = { ...principal, clientId: `subscription/${subscription.id}` };
  const policy = await callerPolicy(db, settings, caller, resolvePurposeOfUse(principal, undefined), `subscription-${subscription.id}`);
  try {
    return await createRepository(db, withRecording(policy, recording)).vread(focus.resourceType, focus.id, String(focus.versionId));
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return undefined;
    }
    throw err;
  }
}

/** `policy` with its recorder limited to `recording`. */
function withRecording(policy: AccessPolicy, recording: Recording): AccessPolicy {
  const { recorder, ...rest } = policy;
  if (recording === 'nothing' || !recorder) {
    return rest;
  }
  const disclosuresOnly: AccessRecorder = {
    recordDisclosure: (disclosure) => recorder.recordDisclosure(disclosure),
    recordDenial: () => Promise.resolve(),
  };
  return { ...rest, recorder: disclosuresOnly };
}
