/**
 * The write rule every Subscription write passes (whoever writes it): checks the subscription's settings, keeps its
 * lifecycle honest (a new or changed subscription is `requested` until the worker's handshake succeeds; clients may
 * ask for `requested` or `off`, the worker sets `active` and `error`), and moves the subscriber's signing secret out of
 * the resource into `subscription_secret`, in the write's own transaction. A Subscription without one is refused (422,
 * {@link UNSIGNED_REFUSAL} says how to sign): notifications are never sent unsigned. The secret is never stored in the resource,
 * so no read, search or history can return it.
 */
import type { Extension, Resource, Subscription } from '@medplum/fhirtypes';
import { badRequest, fail, unprocessable } from '@carecircle/fhir';
import { hasSubscriptionSecret, storeSubscriptionSecret, type Queryable, type WriteFacts, type WriteRuleFor } from '@carecircle/store';
import { extensionsOf, readSubscriptionSettings, type BackportSubscription, SUBSCRIPTION_SECRET_EXTENSION, type EndpointRules } from './subscription-settings';

const MIN_SECRET_LENGTH = 32;
const MAX_SECRET_LENGTH = 256;

/**
 * Why an unsigned Subscription is refused, and how to sign: every notification carries ids of a client's records (and
 * with full-resource, the records), so a receiver must be able to tell ours from a forgery or a replay; the Backport
 * IG's own examples carry no secret, and the refusal says what to add.
 */
export const UNSIGNED_REFUSAL =
  `CareCircle signs every notification, so a Subscription needs a signing secret: add to Subscription.extension ` +
  `{"url": "${SUBSCRIPTION_SECRET_EXTENSION}", "valueString": "<${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} printable ASCII characters you keep>"}. ` +
  `It is never returned; each notification then carries X-CareCircle-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of ` +
  `"<t>.<raw body>" keyed with the secret> and X-CareCircle-Event-Id, so the receiver rejects forgeries and replays.`;

/** Statuses a client may write; `active` and `error` only the worker sets (as the server: see isServer). */
const CLIENT_STATUSES = new Set(['requested', 'off']);

/** What the Subscription rule is built with: the endpoint rules, and how it knows the server's own writer. */
export interface SubscriptionRules<W> extends EndpointRules {
  /**
   * True for the writer of the server's own jobs, whose status changes (the worker's `active`, `error` and `off`) are
   * the lifecycle itself, not a client's request; absent: every writer is a client.
   */
  isServer?: (writer: W) => boolean;
}

/**
 * Builds the Subscription write rule. It is one of the write pipeline's rules (access's write-pipeline.ts), with the
 * configured endpoint rules (`createExtractSubscriptionSecret({ allowLoopbackHttp })`).
 */
export function createExtractSubscriptionSecret<W = unknown>(rules: SubscriptionRules<W> = {}): WriteRuleFor<W> {
  return async function extractSubscriptionSecret(next: Resource, current: Resource | undefined, tx: Queryable, write: WriteFacts | undefined, writer: W) {
    // The server only moves the status of a subscription a client wrote (and this rule checked): handshake, failures.
    if (next.resourceType !== 'Subscription' || rules.isServer?.(writer) === true) {
      return;
    }
    const subscription = next;
    const secret = takeSecret(subscription);
    readSubscriptionSettings(subscription, rules);
    // A deleted subscription brought back is a new registration: it is requested (handshake) again.
    const previous = current?.resourceType === 'Subscription' && !write?.revives ? current : undefined;
    subscription.status = nextStatus(subscription, previous);
    const id = subscription.id ?? '';
    if (secret !== undefined) {
      await storeSubscriptionSecret(tx, id, secret);
    } else if (!(await hasSubscriptionSecret(tx, id))) {
      fail(unprocessable(UNSIGNED_REFUSAL, 'Subscription.extension'));
    }
  };
}

/** The rule with production endpoint rules: https only. */
export const extractSubscriptionSecret: WriteRuleFor<unknown> = createExtractSubscriptionSecret();

/** Removes the secret extension from the resource and returns its value (undefined when absent). */
function takeSecret(subscription: Subscription): string | undefined {
  const all = extensionsOf(subscription, 'Subscription.extension');
  const found = all.filter((e) => e.url === SUBSCRIPTION_SECRET_EXTENSION);
  if (found.length === 0) {
    return undefined;
  }
  const rest: Extension[] = all.filter((e) => e.url !== SUBSCRIPTION_SECRET_EXTENSION);
  if (rest.length > 0) {
    subscription.extension = rest;
  } else {
    delete subscription.extension;
  }
  const value = found.length === 1 ? found[0]?.valueString : undefined;
  if (value === undefined || value.length < MIN_SECRET_LENGTH || value.length > MAX_SECRET_LENGTH || !/^[\x20-\x7e]+$/.test(value)) {
    fail(
      badRequest(
        `The subscription secret must be one valueString of ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} printable characters`,
        'Subscription.extension',
      ),
    );
  }
  return value;
}

/** The status to store: `requested` for a new or re-configured subscription; otherwise what the client may set. */
function nextStatus(next: Subscription, previous: Subscription | undefined): Subscription['status'] {
  if (!previous) {
    return 'requested';
  }
  if (next.status === previous.status) {
    return settingsChanged(next, previous) && next.status !== 'off' ? 'requested' : next.status;
  }
  if (!CLIENT_STATUSES.has(next.status ?? '')) {
    fail(unprocessable('Subscription.status may be set to requested or off; the server sets active and error', 'Subscription.status'));
  }
  return next.status === 'off' ? 'off' : 'requested';
}

function settingsChanged(next: BackportSubscription, previous: BackportSubscription): boolean {
  const shape = (s: BackportSubscription) => JSON.stringify([s.criteria, s._criteria, s.channel]);
  return shape(next) !== shape(previous);
}
