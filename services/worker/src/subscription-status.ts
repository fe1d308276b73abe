/**
 * The worker's changes to a Subscription's status (handshake -> active | error, failures -> error, recovery -> active,
 * 410 -> off, past its `end` -> off), written through a repository with full access so they are versioned and appear
 * in history like any other change. Optimistic: each write carries If-Match, and a concurrent change by the client
 * wins. Also when a subscription receives events, and how long one delivery to it may take.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Subscription } from '@medplum/fhirtypes';
import { isSubscriptionReceiving, type Repository } from '@carecircle/store';
import { readOrUndefined, statusOf } from '@carecircle/fhir';
import { type SubscriptionSettings } from '@carecircle/notify';
import type { NotifyContext } from './notify-context';

type Status = Subscription['status'];

/**
 * Sets the status of Subscription `id` to `status` unless it already has it. When `onlyFrom` is given, changes it only
 * from one of those statuses (so a subscription the client turned off is never revived). Returns the stored
 * Subscription, or undefined when it is gone or was not changed.
 */
export async function setSubscriptionStatus(
  repository: Repository,
  id: string,
  status: Status,
  onlyFrom?: readonly Status[],
): Promise<Subscription | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = await readSubscription(repository, id);
    if (!current || current.status === status || (onlyFrom && !onlyFrom.includes(current.status))) {
      return undefined;
    }
    try {
      const { resource } = await repository.update<Subscription>(
        { ...current, status },
        { ifMatch: current.meta?.versionId ?? '0' },
      );
      return resource;
    } catch (err) {
      if (err instanceof OperationOutcomeError && statusOf(err.outcome) === 412) {
        continue;
      }
      throw err;
    }
  }
  return undefined;
}

/** The current Subscription, or undefined when it is absent or deleted. */
export async function readSubscription(repository: Repository, id: string): Promise<Subscription | undefined> {
  return readOrUndefined<Subscription>(repository, 'Subscription', id);
}

/** True when `subscription` has an `end` that has passed. */
export function hasEnded(subscription: Subscription, now: number = Date.now()): boolean {
  const end = subscription.end === undefined ? Number.NaN : Date.parse(subscription.end);
  return !Number.isNaN(end) && end <= now;
}

/**
 * True when events are delivered to `subscription` now: `active`, or `error` after deliveries to an active
 * subscription failed (not after a failed handshake; see isSubscriptionReceiving). A subscription past its `end` is
 * turned `off` here, and is not receiving.
 */
export async function isReceiving(ctx: NotifyContext, subscription: Subscription): Promise<boolean> {
  if (subscription.status !== 'active' && subscription.status !== 'error') {
    return false;
  }
  if (hasEnded(subscription)) {
    await setSubscriptionStatus(ctx.repository, subscription.id ?? '', 'off', ['requested', 'active', 'error']);
    ctx.logger.info({ subscriptionId: subscription.id }, 'subscription ended: off');
    return false;
  }
  return subscription.status === 'active' || isSubscriptionReceiving(ctx.db, subscription.id ?? '');
}

/** One delivery's time limit: the subscription's backport-timeout, never longer than the configured limit. */
export function deliveryTimeoutMs(ctx: NotifyContext, settings: SubscriptionSettings): number {
  const limit = ctx.options.requestTimeoutMs;
  return settings.timeoutSeconds === undefined ? limit : Math.min(limit, settings.timeoutSeconds * 1000);
}
