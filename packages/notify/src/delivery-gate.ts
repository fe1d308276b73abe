/**
 * The consent gate the worker asks before anything about a resource leaves the server (DESIGN.md: "queued
 * notifications are checked again at delivery"). The real gate (consent-based) is supplied by whoever starts the
 * worker; this package only defines its shape and a fail-closed default.
 *
 * The gate is asked twice about an event: at matching ({@link DeliveryGate.canSee}: a subscriber who cannot see the
 * change now gets no event for it at all, so no number, no timestamp, no audit entry), and at delivery
 * ({@link DeliveryGate.release}: the exact version the event is about, read as the subscriber; what that read returns
 * is the only resource content the notification may carry).
 */
import type { Resource, Subscription } from '@medplum/fhirtypes';

/** The version of a resource an event is about. */
export interface DeliveryFocus {
  resourceType: string;
  id: string;
  versionId: number;
}

export type GateDecision =
  /** The subscriber may read it now: `resource` is that version as its read returned it (and as audited). */
  | { kind: 'deliver'; resource: Resource }
  /** Not now: the event keeps its number and nothing about it is sent. */
  | { kind: 'withhold' };

export interface DeliveryGate {
  /**
   * At matching: may the owner of `subscription` see `focus` now, and does what it is shown of it pass `passes` (the
   * subscription's filters, judged on the version as the owner may read it)? Records nothing (nothing is disclosed
   * yet, and a subscriber that may not see a change must not cause audit entries or events about it).
   */
  canSee(subscription: Subscription, focus: DeliveryFocus, passes?: (shown: Resource) => boolean): Promise<boolean>;
  /**
   * At delivery: reads `focus` as the owner of `subscription`. A permitted read is a disclosure and is audited like
   * one over the API; a refused one is not a request by the subscriber and leaves no trace.
   */
  release(subscription: Subscription, focus: DeliveryFocus): Promise<GateDecision>;
}

/** The default when no gate is wired: nothing about any resource goes out (fail closed). */
export const withholdEverything: DeliveryGate = {
  canSee: () => Promise.resolve(false),
  release: () => Promise.resolve({ kind: 'withhold' }),
};
