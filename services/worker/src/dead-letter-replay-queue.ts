/**
 * The `subscription-dead-letter-replay` queue processor: an operator asked (admin API) to send one dead-lettered event
 * again. It goes out as delivery would send it (delivery-queue.ts's sendEvent): the subscription must still receive,
 * the delivery gate reads the exact version as the subscriber now (so a consent revoked since withholds it and nothing
 * is sent), and the notification is signed with the same X-CareCircle-Event-Id, so receivers de-duplicate it.
 *
 * The replay holds the subscription's delivery lease while it sends, so it never overlaps live delivery; it does not
 * move the cursor (the event was settled long ago: it arrives out of order, under its own number). One attempt per
 * replay: delivered or withheld settles the event so; a failure counts an attempt and puts the event back on the
 * dead-letter queue with its new reason; a 410 turns the subscription off, as in delivery. The dead letter's entry is
 * taken off the dead-letter queue by the admin API when it queues the replay, and again here once settled.
 */
import { randomUUID } from 'node:crypto';
import { deadLetterReplayJobSchema, notifyJobIds, type DeadLetterJob } from '@carecircle/notify';
import {
  acquireDeliveryLease,
  leaseRemainingMs,
  readSubscriptionEvent,
  recordFailedReplay,
  releaseDeliveryLease,
  settleReplayedEvent,
  type StoredEvent,
} from '@carecircle/store';
import { DelayedError, type Job } from 'bullmq';
import { sendEvent } from './delivery-queue';
import type { NotifyContext } from './notify-context';
import { isReceiving, readSubscription, setSubscriptionStatus } from './subscription-status';

/**
 * A replay that finds the lease taken looks again after this long, or a little after the lease would run out if that
 * is sooner: holders release the lease as soon as they are done, long before it would expire.
 */
const LEASE_RECHECK_MS = 500;
const LEASE_MARGIN_MS = 100;

/** Replays one dead-lettered event (see the module header); a job for an event no longer dead-lettered does nothing. */
export async function processDeadLetterReplay(ctx: NotifyContext, job: Job, token: string | undefined): Promise<void> {
  const { subscriptionId, eventNumber } = deadLetterReplayJobSchema.parse(job.data);
  const owner = `${job.id ?? 'replay'}:${randomUUID()}`;
  const state = await acquireDeliveryLease(ctx.db, subscriptionId, owner, ctx.options.leaseMs);
  if (!state) {
    const waitMs = Math.min(LEASE_RECHECK_MS, (await leaseRemainingMs(ctx.db, subscriptionId)) + LEASE_MARGIN_MS);
    await job.moveToDelayed(Date.now() + waitMs, token);
    throw new DelayedError();
  }
  // The replay's request id (the admin action) is on every line already: the worker binds it to the job's logger.
  const log = { subscriptionId, eventNumber };
  try {
    const event = await readSubscriptionEvent(ctx.db, subscriptionId, eventNumber);
    if (!event || event.outcome !== 'dead-lettered') {
      ctx.logger.info(log, 'dead letter replay: the event is no longer dead-lettered');
      return;
    }
    const subscription = await readSubscription(ctx.repository, subscriptionId);
    if (!subscription || !(await isReceiving(ctx, subscription))) {
      ctx.logger.info(log, 'dead letter replay: the subscription does not receive; kept as a dead letter');
      await putBack(ctx, event, event.attempts, undefined, 'subscription not receiving');
      return;
    }
    const attempt = await sendEvent(ctx, subscription, event, state);
    switch (attempt.kind) {
      case 'delivered':
      case 'withheld':
        if (await settleReplayedEvent(ctx.db, subscriptionId, eventNumber, attempt.kind)) {
          await ctx.queues.deadLetter.remove(notifyJobIds.delivery({ subscriptionId, eventNumber }));
        }
        if (attempt.kind === 'delivered' && subscription.status === 'error') {
          await setSubscriptionStatus(ctx.repository, subscriptionId, 'active', ['error']);
        }
        ctx.logger.info({ ...log, outcome: attempt.kind }, 'dead letter replayed');
        return;
      case 'gone':
        await setSubscriptionStatus(ctx.repository, subscriptionId, 'off', ['active', 'error']);
        await putBack(ctx, event, event.attempts, 410, 'status 410');
        ctx.logger.info(log, 'dead letter replay: subscriber answered 410: subscription off');
        return;
      case 'failed': {
        const attempts = await recordFailedReplay(ctx.db, subscriptionId, eventNumber, attempt.status);
        if (attempts !== undefined) {
          await putBack(ctx, event, attempts, attempt.status, attempt.reason);
        }
        ctx.logger.info({ ...log, status: attempt.status, reason: attempt.reason }, 'dead letter replay failed: back on the dead-letter queue');
        return;
      }
      default:
        return attempt satisfies never;
    }
  } finally {
    await releaseDeliveryLease(ctx.db, subscriptionId, owner);
  }
}

/** Puts the event back on the dead-letter queue (the admin API took it off when it queued the replay). */
async function putBack(ctx: NotifyContext, event: StoredEvent, attempts: number, status: number | undefined, reason: string): Promise<void> {
  const deadLetter: DeadLetterJob = {
    subscriptionId: event.subscriptionId,
    eventNumber: event.eventNumber,
    attempts,
    ...(status === undefined ? {} : { lastStatus: status }),
    reason: reason.slice(0, 200),
    ...(event.requestId === undefined ? {} : { requestId: event.requestId }),
  };
  await ctx.queues.deadLetter.add('dead-letter', deadLetter, { jobId: notifyJobIds.delivery(event) });
}
