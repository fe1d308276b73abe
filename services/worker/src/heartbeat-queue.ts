/**
 * The `subscription-heartbeat` queue: a BullMQ job scheduler per subscription with a heartbeat period (started when
 * the handshake activates it, first due one period later; removed when it is turned off or deleted; rebuilt by the
 * delivery sweeper when Redis lost it). Each run sends an empty heartbeat Bundle to an
 * active subscription; a failed heartbeat is only logged (it carries no event, nothing is lost), and a subscription
 * that is no longer active loses its scheduler.
 */
import { randomUUID } from 'node:crypto';
import type { Subscription } from '@medplum/fhirtypes';
import {
  buildNotificationBundle,
  HEARTBEAT_PERIOD_EXTENSION,
  heartbeatJobSchema,
  notifyJobIds,
  readSubscriptionSettings,
  type HeartbeatJob,
} from '@carecircle/notify';
import { findReceivingSubscriptionsWithChannelExtension, readDeliveryState, readSubscriptionSecret, type Queryable } from '@carecircle/store';
import type { Job } from 'bullmq';
import type { NotifyContext, NotifyQueues } from './notify-context';
import { deliveryTimeoutMs, isReceiving, readSubscription } from './subscription-status';

/** Starts (or re-times) the heartbeat of a subscription: the first one period from now, then every period. */
export async function scheduleHeartbeat(queues: Pick<NotifyQueues, 'heartbeat'>, subscriptionId: string, periodSeconds: number): Promise<void> {
  const data: HeartbeatJob = { subscriptionId };
  const every = periodSeconds * 1000;
  await queues.heartbeat.upsertJobScheduler(
    notifyJobIds.heartbeatScheduler(subscriptionId),
    { every, startDate: Date.now() + every },
    { name: 'heartbeat', data, opts: { removeOnComplete: true, removeOnFail: 100 } },
  );
}

/**
 * Receiving Subscriptions (active, or in error after failed deliveries, which keeps its heartbeat scheduler for when it
 * recovers) with ids after `afterId`, in id order, at most `limit`, whose channel has a heartbeat period extension.
 */
export function findHeartbeatSubscriptions(q: Queryable, afterId: string, limit: number): Promise<Subscription[]> {
  return findReceivingSubscriptionsWithChannelExtension(q, HEARTBEAT_PERIOD_EXTENSION, afterId, limit);
}

export async function removeHeartbeat(ctx: NotifyContext, subscriptionId: string): Promise<void> {
  await ctx.queues.heartbeat.removeJobScheduler(notifyJobIds.heartbeatScheduler(subscriptionId));
}

export async function processHeartbeat(ctx: NotifyContext, job: Job): Promise<void> {
  const { subscriptionId } = heartbeatJobSchema.parse(job.data);
  const subscription = await readSubscription(ctx.repository, subscriptionId);
  if (!subscription || subscription.status !== 'active' || !(await isReceiving(ctx, subscription))) {
    if (subscription?.status !== 'error') {
      await removeHeartbeat(ctx, subscriptionId);
    }
    return;
  }
  const secret = await readSubscriptionSecret(ctx.db, subscriptionId);
  let settings;
  try {
    settings = readSubscriptionSettings(subscription, { allowLoopbackHttp: ctx.options.allowLoopbackHttp });
  } catch {
    return;
  }
  if (!secret) {
    return;
  }
  const state = await readDeliveryState(ctx.db, subscriptionId);
  const bundle = buildNotificationBundle({
    subscription,
    fhirBaseUrl: ctx.fhirBaseUrl,
    type: 'heartbeat',
    eventsSinceSubscriptionStart: state.lastEventNumber,
  });
  const result = await ctx.webhooks.post({
    endpoint: settings.endpoint,
    headers: settings.headers,
    secret,
    body: JSON.stringify(bundle),
    eventId: randomUUID(),
    timeoutMs: deliveryTimeoutMs(ctx, settings),
    maxResponseBytes: ctx.options.maxResponseBytes,
    signal: ctx.stopSignal,
  });
  if (result.kind !== 'success') {
    ctx.logger.info({ subscriptionId, status: result.status }, 'heartbeat not accepted');
  }
}
