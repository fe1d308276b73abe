/**
 * The `subscription-delivery` queue processor: delivers a subscription's numbered events in order, at least once.
 *
 * Each numbered event has a job (jobId `{subscription}_{number}`), but a job does not send "its" event in isolation:
 * it takes the subscription's delivery lease (Postgres, see subscription-store.ts), then sends events from the cursor
 * on, one at a time, each settled before the next is sent, so whichever job holds the lease keeps the order. A job
 * that finds the lease taken checks back when the lease would expire (the holder normally sends its event
 * meanwhile); a holder whose next event waits for a retry moves its job to BullMQ's delayed set (no BullMQ attempt
 * used) and resumes then. A holder that crashes leaves its job stalled (BullMQ hands it to another worker) and its
 * lease to run out (`leaseMs`); whichever job looks next then takes over. Several worker replicas therefore never send
 * one event at the same time; a second send of the same event (same event number, same X-CareCircle-Event-Id) happens
 * only when a holder died after sending and before settling: at-least-once.
 *
 * Per event: the delivery gate decides first, reading the exact version the event is about as the subscriber (its
 * access-bound repository: scopes, custodianship, consent now). A withheld event is settled as `withheld` and NOT
 * sent: it keeps its number (no gaps in our records; the subscriber sees the number skipped), and nothing about that
 * resource leaves the server, not even the fact that something happened. A full-resource notification carries exactly
 * what the gate's read returned, never a second read. Then 2xx settles it `delivered` (and turns an `error` subscription
 * `active` again); 410 turns the subscription `off` and stops; any other outcome counts an attempt and schedules the
 * next per the retry policy (Retry-After honoured for 429/503), marks the subscription `error` after
 * `errorAfterFailures` failures in a row, and after `maxAttempts` settles the event `dead-lettered` and copies it to
 * the dead-letter queue, and delivery moves on. Events stay in Postgres either way: `$events` serves them again.
 *
 * Every attempt is logged with the id of the HTTP request whose write caused the event, and counted in the metrics.
 */
import { randomUUID } from 'node:crypto';
import type { Subscription } from '@medplum/fhirtypes';
import {
  buildNotificationBundle,
  deliveryJobSchema,
  notifyJobIds,
  readSubscriptionSettings,
  nextAttemptDelayMs,
  type DeadLetterJob,
  type SubscriptionSettings,
} from '@carecircle/notify';
import {
  acquireDeliveryLease,
  type DeliveryState,
  leaseRemainingMs,
  readDeliveryState,
  readSubscriptionEvent,
  readSubscriptionSecret,
  recordFailedAttempt,
  releaseDeliveryLease,
  settleSubscriptionEvent,
  type StoredEvent,
} from '@carecircle/store';
import { DelayedError, type Job } from 'bullmq';
import type { NotifyContext } from './notify-context';
import { deliveryTimeoutMs, isReceiving, readSubscription, setSubscriptionStatus } from './subscription-status';

/** Checked a little after another holder's lease would have run out. */
const LEASE_MARGIN_MS = 100;

/** What one pass over the subscription ended with. */
type DrainResult =
  /** Nothing pending and deliverable: the job is done (after a last look, see processDelivery). */
  | { kind: 'caught-up' }
  /** Delivery cannot go on now (subscription off, deleted, lease lost): the job is done. */
  | { kind: 'stopped' }
  /** The next event waits for its retry: the job comes back then. */
  | { kind: 'wait'; ms: number };

/** What sending one event came to. */
export type EventAttempt =
  | { kind: 'delivered' }
  | { kind: 'withheld' }
  | { kind: 'gone' }
  | { kind: 'failed'; status: number | undefined; retryAfterMs: number | undefined; reason: string };

/**
 * Delivers the subscription's pending events, this job's included. A job that finds the lease taken leaves its event
 * to the holder, and checks back when the lease would run out: done if its event was settled by then, holder itself
 * if the holder died. A holder that has caught up looks again after giving the lease back, so an event numbered while
 * it was finishing goes out at once rather than at that check.
 */
export async function processDelivery(ctx: NotifyContext, job: Job, token: string | undefined): Promise<void> {
  const { subscriptionId, eventNumber } = deliveryJobSchema.parse(job.data);
  const owner = `${job.id ?? 'job'}:${randomUUID()}`;
  for (;;) {
    const state = await acquireDeliveryLease(ctx.db, subscriptionId, owner, ctx.options.leaseMs);
    if (!state) {
      const own = await readSubscriptionEvent(ctx.db, subscriptionId, eventNumber);
      if (!own || own.outcome) {
        return;
      }
      await job.moveToDelayed(Date.now() + (await leaseRemainingMs(ctx.db, subscriptionId)) + LEASE_MARGIN_MS, token);
      throw new DelayedError();
    }
    let result: DrainResult;
    try {
      result = await drain(ctx, subscriptionId, owner, state);
    } finally {
      await releaseDeliveryLease(ctx.db, subscriptionId, owner);
    }
    switch (result.kind) {
      case 'wait':
        await job.moveToDelayed(Date.now() + result.ms, token);
        throw new DelayedError();
      case 'stopped':
        return;
      case 'caught-up': {
        const after = await readDeliveryState(ctx.db, subscriptionId);
        if (after.deliveredThrough >= after.lastEventNumber) {
          return;
        }
        break;
      }
      default:
        return result satisfies never;
    }
  }
}

/** Sends events from the cursor on while holding the lease, each settled before the next. */
async function drain(ctx: NotifyContext, subscriptionId: string, owner: string, initial: DeliveryState): Promise<DrainResult> {
  let state = initial;
  for (;;) {
    const next = state.deliveredThrough + 1;
    if (next > state.lastEventNumber) {
      // Renews the lease and sees events numbered since the last look.
      const fresh = await acquireDeliveryLease(ctx.db, subscriptionId, owner, ctx.options.leaseMs);
      if (!fresh) {
        return { kind: 'stopped' };
      }
      if (fresh.deliveredThrough >= fresh.lastEventNumber) {
        return { kind: 'caught-up' };
      }
      state = fresh;
      continue;
    }
    const event = await readSubscriptionEvent(ctx.db, subscriptionId, next);
    const subscription = await readSubscription(ctx.repository, subscriptionId);
    if (!event || !subscription || !(await isReceiving(ctx, subscription))) {
      // Deleted, off, ended, re-requested, or its handshake failed: nothing is sent; the events stay for $events.
      return { kind: 'stopped' };
    }
    if (event.dueInMs > 0) {
      return { kind: 'wait', ms: event.dueInMs };
    }
    const attempt = await sendEvent(ctx, subscription, event, state);
    switch (attempt.kind) {
      case 'delivered':
      case 'withheld': {
        const settled = await settleSubscriptionEvent(ctx.db, subscriptionId, owner, next, attempt.kind, ctx.options.leaseMs);
        if (!settled) {
          return { kind: 'stopped' };
        }
        ctx.metrics.settled(attempt.kind, event.occurredAt);
        if (attempt.kind === 'delivered' && subscription.status === 'error') {
          await setSubscriptionStatus(ctx.repository, subscriptionId, 'active', ['error']);
        }
        state = { ...state, deliveredThrough: next };
        break;
      }
      case 'gone':
        await setSubscriptionStatus(ctx.repository, subscriptionId, 'off', ['active', 'error']);
        ctx.logger.info({ requestId: event.requestId, subscriptionId, eventNumber: next }, 'subscriber answered 410: subscription off');
        return { kind: 'stopped' };
      case 'failed': {
        const outcome = await handleFailure(ctx, subscription, event, owner, attempt);
        switch (outcome.kind) {
          case 'settled':
            state = { ...state, deliveredThrough: next };
            break;
          case 'lost':
            return { kind: 'stopped' };
          case 'retry':
            return { kind: 'wait', ms: outcome.retryInMs };
          default:
            return outcome satisfies never;
        }
        break;
      }
      default:
        return attempt satisfies never;
    }
  }
}

/**
 * Asks the gate, builds, signs and posts the notification of one event; records nothing (the caller settles). Also
 * used to replay a dead letter (dead-letter-replay-queue.ts).
 */
export async function sendEvent(
  ctx: NotifyContext,
  subscription: Subscription,
  event: StoredEvent,
  state: DeliveryState,
): Promise<EventAttempt> {
  let settings: SubscriptionSettings;
  try {
    settings = readSubscriptionSettings(subscription, { allowLoopbackHttp: ctx.options.allowLoopbackHttp });
  } catch {
    return { kind: 'failed', status: undefined, retryAfterMs: undefined, reason: 'subscription fails the rules' };
  }
  const secret = await readSubscriptionSecret(ctx.db, event.subscriptionId);
  if (!secret) {
    return { kind: 'failed', status: undefined, retryAfterMs: undefined, reason: 'no secret' };
  }
  const decision = await ctx.gate.release(subscription, {
    resourceType: event.resourceType,
    id: event.resourceId,
    versionId: event.versionId,
  });
  if (decision.kind === 'withhold') {
    ctx.logger.info({ requestId: event.requestId, subscriptionId: event.subscriptionId, eventNumber: event.eventNumber }, 'notification withheld');
    return { kind: 'withheld' };
  }
  const focus = { resourceType: event.resourceType, id: event.resourceId };
  const resource = settings.content === 'full-resource' ? decision.resource : undefined;
  const bundle = buildNotificationBundle({
    subscription,
    fhirBaseUrl: ctx.fhirBaseUrl,
    type: 'event-notification',
    eventsSinceSubscriptionStart: Math.max(state.lastEventNumber, event.eventNumber),
    events: [
      {
        eventNumber: event.eventNumber,
        timestamp: event.occurredAt,
        kind: event.kind,
        ...(settings.content === 'empty' ? {} : { focus }),
        ...(resource ? { resource } : {}),
      },
    ],
  });
  const started = Date.now();
  const result = await ctx.webhooks.post({
    endpoint: settings.endpoint,
    headers: settings.headers,
    secret,
    body: JSON.stringify(bundle),
    eventId: event.deliveryId,
    timeoutMs: deliveryTimeoutMs(ctx, settings),
    maxResponseBytes: ctx.options.maxResponseBytes,
    signal: ctx.stopSignal,
  });
  const outcome = result.kind === 'success' ? 'delivered' : result.kind === 'gone' ? 'gone' : 'failed';
  ctx.metrics.attempted(outcome);
  ctx.logger.info(
    {
      requestId: event.requestId,
      subscriptionId: event.subscriptionId,
      eventNumber: event.eventNumber,
      attempt: event.attempts + 1,
      outcome,
      status: result.status,
      ms: Date.now() - started,
    },
    'notification attempt',
  );
  switch (result.kind) {
    case 'success':
      return { kind: 'delivered' };
    case 'gone':
      return { kind: 'gone' };
    case 'failure':
      return { kind: 'failed', status: result.status, retryAfterMs: result.retryAfterMs, reason: result.reason };
    default:
      return result satisfies never;
  }
}

type FailureOutcome = { kind: 'retry'; retryInMs: number } | { kind: 'settled' } | { kind: 'lost' };

/** Counts the failed attempt; dead-letters the event after the last one; marks the subscription `error` when due. */
async function handleFailure(
  ctx: NotifyContext,
  subscription: Subscription,
  event: StoredEvent,
  owner: string,
  attempt: Extract<EventAttempt, { kind: 'failed' }>,
): Promise<FailureOutcome> {
  const policy = ctx.options.retryPolicy;
  const subscriptionId = event.subscriptionId;
  const retryInMs = nextAttemptDelayMs(policy, event.attempts + 1, attempt.retryAfterMs);
  const { attempts, consecutiveFailures } = await recordFailedAttempt(
    ctx.db,
    subscriptionId,
    owner,
    event.eventNumber,
    attempt.status,
    retryInMs,
  );
  ctx.logger.info(
    { requestId: event.requestId, subscriptionId, eventNumber: event.eventNumber, attempts, status: attempt.status, reason: attempt.reason, retryInMs },
    'notification not accepted',
  );
  if (consecutiveFailures >= policy.errorAfterFailures && subscription.status === 'active') {
    await setSubscriptionStatus(ctx.repository, subscriptionId, 'error', ['active']);
  }
  if (attempts < policy.maxAttempts) {
    return { kind: 'retry', retryInMs };
  }
  // The last attempt failed: settle the event as dead-lettered and keep a copy on the dead-letter queue.
  const settled = await settleSubscriptionEvent(ctx.db, subscriptionId, owner, event.eventNumber, 'dead-lettered', ctx.options.leaseMs);
  if (!settled) {
    return { kind: 'lost' };
  }
  ctx.metrics.settled('dead-lettered');
  const deadLetter: DeadLetterJob = {
    subscriptionId,
    eventNumber: event.eventNumber,
    attempts,
    ...(attempt.status === undefined ? {} : { lastStatus: attempt.status }),
    reason: attempt.reason.slice(0, 200),
    ...(event.requestId === undefined ? {} : { requestId: event.requestId }),
  };
  await ctx.queues.deadLetter.add('dead-letter', deadLetter, {
    jobId: notifyJobIds.delivery({ subscriptionId, eventNumber: event.eventNumber }),
  });
  ctx.logger.warn({ requestId: event.requestId, subscriptionId, eventNumber: event.eventNumber, attempts }, 'notification dead-lettered');
  return { kind: 'settled' };
}
