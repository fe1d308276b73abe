/**
 * The `outbox-events` queue processor: matching. For a resource change, every receiving subscription (active, or in
 * error after failed deliveries) whose topic the change triggers, whose owner may see that version now (the delivery
 * gate's `canSee`, through the owner's access-bound repository), and whose filters pass on what the owner is shown of
 * it (the stored version answers first for filters that only narrow) gets a numbered event, and a delivery job for it. A subscriber without consent hears nothing: no event number, no
 * timestamp, no AuditEvent. Event numbers follow the order jobs are matched in: each worker matches one job at a time
 * (FIFO, the relay enqueues in outbox order); across replicas two changes committed moments apart may be numbered
 * either way, except that versions of one resource never go backwards (see recordSubscriptionEvents). For a Subscription change, the lifecycle: a `requested` subscription gets its handshake, a
 * deleted one loses its secret and heartbeat. Safe to run twice: numbering is idempotent per (subscription, outbox
 * event) and every job id is derived from what it is for. Each matched change is logged with the id of the request that
 * made it (its job's `requestId`, which the worker binds to the job's logger), and the delivery, handshake and reminder
 * jobs it makes carry that id on.
 */
import type { Resource, Subscription } from '@medplum/fhirtypes';
import { isNotFoundOrGone } from '@carecircle/fhir';
import {
  mayPassOnNarrowerView,
  notifyJobIds,
  passesFilters,
  outboxEventJobSchema,
  readSubscriptionSettings,
  topicsTriggeredBy,
  triggersSubscription,
  type DeliveryJob,
  type HandshakeJob,
  type JobOrigin,
  type OutboxEventJob,
  type SubscriptionSettings,
} from '@carecircle/notify';
import { deleteSubscriptionSecret, findReceivingSubscriptions, recordSubscriptionEvents } from '@carecircle/store';
import type { Job } from 'bullmq';
import { removeHeartbeat } from './heartbeat-queue';
import { followReferralTask } from './referral-reminders-queue';
import type { NotifyContext } from './notify-context';
import { hasEnded, readSubscription } from './subscription-status';

/** Processes one outbox event job. */
export async function processOutboxEvent(ctx: NotifyContext, job: Job): Promise<void> {
  const change = outboxEventJobSchema.parse(job.data);
  if (change.resourceType === 'Subscription') {
    await followSubscriptionLifecycle(ctx, change);
    return;
  }
  if (change.kind === 'delete') {
    return;
  }
  const topics = topicsTriggeredBy(change.resourceType, change.kind);
  if (topics.length === 0) {
    return;
  }
  const resource = await readChangedVersion(ctx, change);
  if (!resource) {
    return;
  }
  if (resource.resourceType === 'Task') {
    await followReferralTask(ctx, resource, change.requestId);
  }
  const subscriptions = (await Promise.all(topics.map((topic) => findReceivingSubscriptions(ctx.db, topic.url)))).flat();
  const matching = subscriptions.flatMap((subscription) => {
    const settings = settingsOf(ctx, subscription);
    if (settings === undefined || hasEnded(subscription) || !triggersSubscription(settings, change.kind, resource.resourceType)) {
      return [];
    }
    // The stored version settles filters that only narrow; the others need the subscriber's own view (see canSee).
    return passesFilters(settings, resource) || mayPassOnNarrowerView(settings, resource.resourceType) ? [{ subscription, settings }] : [];
  });
  // Only subscribers who may see the change now, and whose filters what they are shown of it passes, get an event for
  // it (no number, no timestamp, no audit otherwise): a filter cannot find what the subscriber would not be shown.
  const focus = { resourceType: change.resourceType, id: change.resourceId, versionId: change.versionId };
  const permitted = await Promise.all(
    matching.map(({ subscription, settings }) => ctx.gate.canSee(subscription, focus, (shown) => passesFilters(settings, shown))),
  );
  const receivers = matching.filter((_, i) => permitted[i]).map(({ subscription }) => subscription);
  const numbers = await recordSubscriptionEvents(ctx.db, receivers.map((s) => s.id ?? ''), change);
  const numbered = [...numbers].map(([subscriptionId, eventNumber]) =>
    eventNumber === undefined ? undefined : { subscriptionId, eventNumber, ...originOf(change) },
  );
  const deliveries = numbered.filter((d): d is DeliveryJob => d !== undefined);
  if (deliveries.length > 0) {
    await ctx.queues.delivery.addBulk(
      deliveries.map((data) => ({ name: 'deliver', data, opts: { jobId: notifyJobIds.delivery(data) } })),
    );
  }
  ctx.logger.info(
    { eventId: change.eventId, resourceType: change.resourceType, subscriptions: deliveries.length },
    'outbox event matched',
  );
}

/** The request id a change's follow-up jobs carry: the one of the write that made it, when there was one. */
function originOf(change: OutboxEventJob): JobOrigin {
  return change.requestId === undefined ? {} : { requestId: change.requestId };
}

/** The version the change stored; undefined when it cannot be read any more (nothing to match). */
async function readChangedVersion(ctx: NotifyContext, change: OutboxEventJob): Promise<Resource | undefined> {
  try {
    return await ctx.repository.vread(change.resourceType, change.resourceId, String(change.versionId));
  } catch (err) {
    if (isNotFoundOrGone(err)) {
      return undefined;
    }
    throw err;
  }
}

/** The settings of a stored subscription; one that no longer passes the rules matches nothing. */
function settingsOf(ctx: NotifyContext, subscription: Subscription): SubscriptionSettings | undefined {
  try {
    return readSubscriptionSettings(subscription, { allowLoopbackHttp: ctx.options.allowLoopbackHttp });
  } catch {
    ctx.logger.warn({ subscriptionId: subscription.id }, 'stored subscription fails the subscription rules; skipped');
    return undefined;
  }
}

async function followSubscriptionLifecycle(ctx: NotifyContext, change: OutboxEventJob): Promise<void> {
  const subscription = change.kind === 'delete' ? undefined : await readSubscription(ctx.repository, change.resourceId);
  if (!subscription) {
    await deleteSubscriptionSecret(ctx.db, change.resourceId);
    await removeHeartbeat(ctx, change.resourceId);
    return;
  }
  switch (subscription.status) {
    case 'requested': {
      const handshake: HandshakeJob = {
        subscriptionId: change.resourceId,
        versionId: Number(subscription.meta?.versionId),
        ...originOf(change),
      };
      await ctx.queues.handshake.add('handshake', handshake, { jobId: notifyJobIds.handshake(handshake) });
      return;
    }
    case 'off':
      await removeHeartbeat(ctx, change.resourceId);
      return;
    case 'active':
    case 'error':
    case undefined:
      return;
    default:
      subscription.status satisfies never;
  }
}
