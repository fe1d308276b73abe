/**
 * The Subscription operations of the Backport IG, as plain handlers over the caller's repository: `$status` (the
 * SubscriptionStatus, type query-status) and `$events` (events again by number, type query-event). The Subscription is
 * read through the caller's repository first, so a caller who cannot see it gets 404 before any event table is read;
 * each event's focus (and, for full-resource, the resource) is included only when the caller's repository lets the
 * caller read it now, so nothing about a client comes back after that client revoked.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Bundle, Resource, Subscription } from '@medplum/fhirtypes';
import { badRequest, fail } from '@carecircle/fhir';
import {
  buildNotificationBundle,
  buildStatusBundle,
  listSubscriptionEvents,
  PAYLOAD_CONTENTS,
  PAYLOAD_CONTENT_EXTENSION,
  readDeliveryState,
  type BackportSubscription,
  type NotificationEvent,
  type PayloadContent,
  type StoredEvent,
} from '@carecircle/notify';
import type { Queryable, Repository } from '@carecircle/store';

/** Most events one `$events` call returns; ask again from the last number + 1 for more. */
export const MAX_EVENTS_PER_CALL = 100;

export interface OperationTarget {
  repository: Repository;
  db: Queryable;
  fhirBaseUrl: string;
}

/** `GET Subscription/{id}/$status` */
export async function getSubscriptionStatus(target: OperationTarget, id: string): Promise<Bundle> {
  const subscription = await target.repository.read<Subscription>('Subscription', id);
  const state = await readDeliveryState(target.db, id);
  return buildStatusBundle({
    subscription,
    fhirBaseUrl: target.fhirBaseUrl,
    eventsSinceSubscriptionStart: state.lastEventNumber,
  });
}

/** `GET Subscription/{id}/$events?eventsSinceNumber=&eventsUntilNumber=&content=` */
export async function getSubscriptionEvents(target: OperationTarget, id: string, params: URLSearchParams): Promise<Bundle> {
  const subscription = await target.repository.read<BackportSubscription>('Subscription', id);
  const state = await readDeliveryState(target.db, id);
  const since = readEventNumber(params, 'eventsSinceNumber') ?? 1;
  const until = readEventNumber(params, 'eventsUntilNumber') ?? state.lastEventNumber;
  const content = readContent(params) ?? subscriptionContent(subscription);
  const stored = until < since ? [] : await listSubscriptionEvents(target.db, id, since, until, MAX_EVENTS_PER_CALL);
  const events = await Promise.all(stored.map((event) => presentEvent(target.repository, event, content)));
  return buildNotificationBundle({
    subscription,
    fhirBaseUrl: target.fhirBaseUrl,
    type: 'query-event',
    eventsSinceSubscriptionStart: state.lastEventNumber,
    events,
  });
}

/** The event as this caller may see it now: focus (and resource) only when the caller's repository discloses it. */
async function presentEvent(repository: Repository, event: StoredEvent, content: PayloadContent): Promise<NotificationEvent> {
  const base: NotificationEvent = { eventNumber: event.eventNumber, timestamp: event.occurredAt, kind: event.kind };
  if (content === 'empty') {
    return base;
  }
  const resource = await readIfDisclosed(() =>
    content === 'full-resource'
      ? repository.vread(event.resourceType, event.resourceId, String(event.versionId))
      : repository.read(event.resourceType, event.resourceId),
  );
  if (!resource) {
    return base;
  }
  return {
    ...base,
    focus: { resourceType: event.resourceType, id: event.resourceId },
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

function readEventNumber(params: URLSearchParams, name: string): number | undefined {
  const value = params.get(name);
  if (value === null) {
    return undefined;
  }
  if (!/^[1-9]\d{0,14}$/.test(value)) {
    fail(badRequest(`${name} must be a positive integer`, name));
  }
  return Number(value);
}

function readContent(params: URLSearchParams): PayloadContent | undefined {
  const value = params.get('content');
  if (value === null) {
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
