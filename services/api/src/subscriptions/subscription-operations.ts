/**
 * The Subscription operations of the Backport IG, as plain handlers over the caller's repository: `$status` (the
 * SubscriptionStatus, type query-status, of one Subscription or, at type level, of every one the caller sees) and `$events` (events again by number, type query-event). The Subscription is
 * read through the caller's repository first, so a caller who cannot see it gets 404 before any event table is read.
 * Each event's focus, timestamp (and, for full-resource, the resource) are included only when the event was not
 * withheld at delivery and the caller's policy lets it read the event's exact version now, so nothing about a client
 * comes back after that client revoked: such an event shows its number only. Reading the versions that are shown is a
 * disclosure and audited as one; versions not shown leave no denial in the client's audit trail (the caller asked for
 * its events, not for those resources).
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Bundle, Resource, Subscription } from '@medplum/fhirtypes';
import { badRequest, fail, FHIR_ID_PATTERN } from '@carecircle/fhir';
import {
  buildNotificationBundle,
  buildStatusBundle,
  buildStatusesBundle,
  PAYLOAD_CONTENTS,
  PAYLOAD_CONTENT_EXTENSION,
  type BackportSubscription,
  type NotificationEvent,
  type PayloadContent,
  type StoredEvent,
} from '@carecircle/notify';
import type { Repository } from '@carecircle/store';
import type { OperationContext } from '../fhir/operations/operation-context';
import { defineOperation } from '../fhir/operations/operation-definition';
import type { OperationArguments } from '../fhir/operations/operation-parameters';

/** Most events one `$events` call returns; ask again from the last number + 1 for more. */
export const MAX_EVENTS_PER_CALL = 100;
const EVENTS_PARAMETERS = { eventsSinceNumber: { type: 'integer' }, eventsUntilNumber: { type: 'integer' }, content: { type: 'code' } } as const;

/** `GET Subscription/{id}/$status` (it takes no parameters) */
export const SUBSCRIPTION_STATUS = defineOperation({
  resourceType: 'Subscription',
  name: 'status',
  level: 'instance',
  parameters: {},
  invoke: getSubscriptionStatus,
});

async function getSubscriptionStatus(context: OperationContext, _args: unknown, id: string): Promise<Bundle> {
  const subscription = await context.repository.read<Subscription>('Subscription', id);
  return buildStatusBundle({
    subscription,
    fhirBaseUrl: context.baseUrl,
    eventsSinceSubscriptionStart: await context.subscriptionEvents.lastEventNumber(id),
  });
}

/** Most Subscriptions one type-level `$status` reports; name others with `id`. */
export const MAX_STATUSES_PER_CALL = 1000;
const SUBSCRIPTION_STATUS_CODES: ReadonlySet<string> = new Set(['requested', 'active', 'error', 'off', 'entered-in-error']);
const STATUSES_PARAMETERS = { id: { type: 'id', repeats: true }, status: { type: 'code', repeats: true } } as const;

/**
 * `GET Subscription/$status[?id=&status=]` (the Backport IG's type-level form): one SubscriptionStatus per Subscription
 * the caller may see, found through the caller's own search (so another organization's subscriptions are as absent as
 * ids that do not exist), optionally only those named by `id` and in a `status`. Both may repeat or list
 * comma-separated values (OR), as the IG defines them (0..*).
 */
export const SUBSCRIPTION_STATUSES = defineOperation({
  resourceType: 'Subscription',
  name: 'status',
  level: 'type',
  parameters: STATUSES_PARAMETERS,
  invoke: getSubscriptionStatuses,
});

async function getSubscriptionStatuses(context: OperationContext, args: OperationArguments<typeof STATUSES_PARAMETERS>): Promise<Bundle> {
  const ids = (args.id ?? [])
    .flatMap((value) => value.split(',').map((v) => v.trim()))
    .map((id) => (FHIR_ID_PATTERN.test(id) ? id : fail(badRequest('id must be Subscription ids', 'id'))));
  const statuses = (args.status ?? [])
    .flatMap((value) => value.split(',').map((v) => v.trim()))
    .map((code) => (SUBSCRIPTION_STATUS_CODES.has(code) ? code : fail(badRequest('status must be requested, active, error or off', 'status'))));
  const search = new URLSearchParams({ _count: String(MAX_STATUSES_PER_CALL), _sort: '_id' });
  if (ids.length > 0) {
    search.set('_id', ids.join(','));
  }
  if (statuses.length > 0) {
    search.set('status', statuses.join(','));
  }
  const { matches } = await context.repository.search('Subscription', search);
  const inputs = await Promise.all(
    (matches as Subscription[]).map(async (subscription) => ({
      subscription,
      fhirBaseUrl: context.baseUrl,
      eventsSinceSubscriptionStart: await context.subscriptionEvents.lastEventNumber(subscription.id ?? ''),
    })),
  );
  return buildStatusesBundle(inputs);
}

/** `GET Subscription/{id}/$events?eventsSinceNumber=&eventsUntilNumber=&content=` */
export const SUBSCRIPTION_EVENTS = defineOperation({
  resourceType: 'Subscription',
  name: 'events',
  level: 'instance',
  parameters: EVENTS_PARAMETERS,
  invoke: getSubscriptionEvents,
});

async function getSubscriptionEvents(context: OperationContext, given: OperationArguments<typeof EVENTS_PARAMETERS>, id: string): Promise<Bundle> {
  const sinceParam = readEventNumber(given.eventsSinceNumber, 'eventsSinceNumber');
  const untilParam = readEventNumber(given.eventsUntilNumber, 'eventsUntilNumber');
  const contentParam = readContent(given.content);
  const subscription = await context.repository.read<BackportSubscription>('Subscription', id);
  const lastEventNumber = await context.subscriptionEvents.lastEventNumber(id);
  const since = sinceParam ?? 1;
  const until = untilParam ?? lastEventNumber;
  const content = contentParam ?? subscriptionContent(subscription);
  const stored = until < since ? [] : await context.subscriptionEvents.list(id, since, until, MAX_EVENTS_PER_CALL);
  const reader = context.readerWithoutDenialRecords();
  const events = await Promise.all(stored.map((event) => presentEvent(reader, event, content)));
  return buildNotificationBundle({
    subscription,
    fhirBaseUrl: context.baseUrl,
    type: 'query-event',
    eventsSinceSubscriptionStart: lastEventNumber,
    events,
  });
}

/**
 * The event as this caller may see it now: its number only when it was withheld at delivery or its version is not
 * disclosed to the caller now; otherwise its timestamp too, the focus (unless `empty`) and the resource (full-resource).
 */
async function presentEvent(repository: Repository, event: StoredEvent, content: PayloadContent): Promise<NotificationEvent> {
  const withheld: NotificationEvent = { eventNumber: event.eventNumber, kind: event.kind };
  if (event.outcome === 'withheld') {
    return withheld;
  }
  const resource = await readIfDisclosed(() => repository.vread(event.resourceType, event.resourceId, String(event.versionId)));
  if (!resource) {
    return withheld;
  }
  return {
    ...withheld,
    timestamp: event.occurredAt,
    ...(content === 'empty' ? {} : { focus: { resourceType: event.resourceType, id: event.resourceId } }),
    ...(content === 'full-resource' ? { resource } : {}),
  };
}

async function readIfDisclosed(read: () => Promise<Resource>): Promise<Resource | undefined> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof OperationOutcomeError) {
      return undefined;
    }
    throw err;
  }
}

function readEventNumber(value: string | undefined, name: string): number | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!/^[1-9]\d{0,14}$/.test(value)) {
    fail(badRequest(`${name} must be a positive integer`, name));
  }
  return Number(value);
}

function readContent(value: string | undefined): PayloadContent | undefined {
  if (value === undefined) {
    return undefined;
  }
  if (!PAYLOAD_CONTENTS.includes(value as PayloadContent)) {
    fail(badRequest('content must be empty, id-only or full-resource', 'content'));
  }
  return value as PayloadContent;
}

function subscriptionContent(subscription: BackportSubscription): PayloadContent {
  const code = subscription.channel?._payload?.extension?.find((e) => e.url === PAYLOAD_CONTENT_EXTENSION)?.valueCode;
  return PAYLOAD_CONTENTS.includes(code as PayloadContent) ? (code as PayloadContent) : 'id-only';
}
