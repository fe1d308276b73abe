/**
 * The `subscription-handshake` queue processor: a `requested` subscription is sent a handshake Bundle; a 2xx answer
 * makes it `active` (and starts its heartbeat), anything else `error` — and a subscription whose handshake failed
 * receives nothing (no events are numbered for it) until the client re-requests (status `requested`) and a handshake
 * succeeds. Only the Subscription version the job names is handshaken: a later edit has a job of its own.
 */
import { randomUUID } from 'node:crypto';
import {
  buildNotificationBundle,
  handshakeJobSchema,
  readSubscriptionSettings,
  type SubscriptionSettings,
} from '@carecircle/notify';
import { readDeliveryState, readSubscriptionSecret } from '@carecircle/store';
import type { Subscription } from '@medplum/fhirtypes';
import type { Job } from 'bullmq';
import { scheduleHeartbeat } from './heartbeat-queue';
import type { NotifyContext } from './notify-context';
import { deliveryTimeoutMs, hasEnded, readSubscription, setSubscriptionStatus } from './subscription-status';

export async function processHandshake(ctx: NotifyContext, job: Job): Promise<void> {
  const { subscriptionId, versionId } = handshakeJobSchema.parse(job.data);
  const subscription = await readSubscription(ctx.repository, subscriptionId);
  if (!subscription || subscription.status !== 'requested' || subscription.meta?.versionId !== String(versionId)) {
    return;
  }
  if (hasEnded(subscription)) {
    await setSubscriptionStatus(ctx.repository, subscriptionId, 'off', ['requested']);
    return;
  }
  const settings = trySettings(ctx, subscription);
  const secret = await readSubscriptionSecret(ctx.db, subscriptionId);
  if (!settings || !secret) {
    await setSubscriptionStatus(ctx.repository, subscriptionId, 'error', ['requested']);
    return;
  }
  const state = await readDeliveryState(ctx.db, subscriptionId);
  const bundle = buildNotificationBundle({
    subscription,
    fhirBaseUrl: ctx.fhirBaseUrl,
    type: 'handshake',
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
  const activated = result.kind === 'success';
  const stored = await setSubscriptionStatus(ctx.repository, subscriptionId, activated ? 'active' : 'error', ['requested']);
  ctx.logger.info({ subscriptionId, status: result.status, activated }, 'subscription handshake');
  if (activated && stored && settings.heartbeatPeriod) {
    await scheduleHeartbeat(ctx.queues, subscriptionId, settings.heartbeatPeriod);
  }
}

function trySettings(ctx: NotifyContext, subscription: Subscription): SubscriptionSettings | undefined {
  try {
    return readSubscriptionSettings(subscription, { allowLoopbackHttp: ctx.options.allowLoopbackHttp });
  } catch {
    return undefined;
  }
}
