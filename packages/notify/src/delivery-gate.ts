/**
 * The consent gate the worker asks before anything about a resource leaves the server (DESIGN.md: "queued
 * notifications are checked again at delivery"). The real gate (consent-based) is supplied by whoever starts the
 * worker; this package only defines its shape and a fail-closed default.
 */
import type { Subscription } from '@medplum/fhirtypes';

/** The resource an event is about. */
export interface DeliveryFocus {
  resourceType: string;
  id: string;
}

export type GateDecision = 'deliver' | 'withhold';

/**
 * Decides, at delivery time, whether the subscriber of `subscription` may learn of `focus`. Withheld events keep
 * their number but are not sent (see delivery-queue.ts in the worker).
 */
export type DeliveryGate = (subscription: Subscription, focus: DeliveryFocus) => Promise<GateDecision>;

/** The default when no gate is wired: nothing about any resource goes out (fail closed). */
export const withholdEverything: DeliveryGate = () => Promise.resolve('withhold');
