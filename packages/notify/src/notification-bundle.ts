/**
 * Notification content in the Subscriptions R5 Backport IG's R4 form: the SubscriptionStatus as a `Parameters`
 * resource (profile backport-subscription-status-r4) and the history Bundle whose first entry it is. Used by the
 * worker (handshake, heartbeat, event-notification) and by the API (`$status`: query-status, `$events`: query-event).
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Parameters, ParametersParameter, Resource, Subscription } from '@medplum/fhirtypes';

export const SUBSCRIPTION_STATUS_PROFILE =
  'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-status-r4';
export const SUBSCRIPTION_NOTIFICATION_PROFILE =
  'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-notification-r4';

export type NotificationType = 'handshake' | 'heartbeat' | 'event-notification' | 'query-status' | 'query-event';

/**
 * One event in a notification. `focus` and `timestamp` are absent when the event may not be disclosed (only its number
 * is shown); `resource` only for full-resource.
 */
export interface NotificationEvent {
  eventNumber: number;
  timestamp?: Date;
  kind: 'create' | 'update' | 'delete';
  focus?: { resourceType: string; id: string };
  resource?: Resource;
}

export interface NotificationInput {
  subscription: Subscription;
  /** FHIR base URL, e.g. `https://api.example/fhir/R4`: references in the notification are absolute. */
  fhirBaseUrl: string;
  type: NotificationType;
  /** The subscription's events numbered so far. */
  eventsSinceSubscriptionStart: number;
  events?: readonly NotificationEvent[];
  /** Overrides the status reported (e.g. `active` in the handshake that activates the subscription). */
  status?: Subscription['status'];
}

/** The SubscriptionStatus (R4: Parameters). Event numbers are strings: R4 has no integer64. */
export function buildSubscriptionStatus(input: NotificationInput): Parameters {
  const { subscription, fhirBaseUrl } = input;
  const parameter: ParametersParameter[] = [
    { name: 'subscription', valueReference: { reference: `${fhirBaseUrl}/Subscription/${subscription.id ?? ''}` } },
    { name: 'topic', valueCanonical: subscription.criteria ?? '' },
    { name: 'status', valueCode: input.status ?? subscription.status ?? 'active' },
    { name: 'type', valueCode: input.type },
    { name: 'events-since-subscription-start', valueString: String(input.eventsSinceSubscriptionStart) },
    ...(input.events ?? []).map(
      (event): ParametersParameter => ({
        name: 'notification-event',
        part: [
          { name: 'event-number', valueString: String(event.eventNumber) },
          ...(event.timestamp ? [{ name: 'timestamp', valueInstant: event.timestamp.toISOString() }] : []),
          ...(event.focus
            ? [{ name: 'focus', valueReference: { reference: `${fhirBaseUrl}/${event.focus.resourceType}/${event.focus.id}` } }]
            : []),
        ],
      }),
    ),
  ];
  return {
    resourceType: 'Parameters',
    id: randomUUID(),
    meta: { profile: [SUBSCRIPTION_STATUS_PROFILE] },
    parameter,
  };
}

/**
 * The notification Bundle (type history): the SubscriptionStatus first, then one entry per disclosed event focus:
 * fullUrl, request and response only for id-only (R4 requires request and response in history entries), the resource
 * too for full-resource when the caller put it in `event.resource`.
 */
export function buildNotificationBundle(input: NotificationInput): Bundle {
  const status = buildSubscriptionStatus(input);
  const entries: BundleEntry[] = [
    {
      fullUrl: `urn:uuid:${status.id ?? ''}`,
      resource: status,
      request: { method: 'GET', url: `Subscription/${input.subscription.id ?? ''}/$status` },
      response: { status: '200' },
    },
  ];
  for (const event of input.events ?? []) {
    if (!event.focus) {
      continue;
    }
    const { resourceType, id } = event.focus;
    entries.push({
      fullUrl: `${input.fhirBaseUrl}/${resourceType}/${id}`,
      ...(event.resource ? { resource: event.resource } : {}),
      request: { method: event.kind === 'create' ? 'POST' : event.kind === 'update' ? 'PUT' : 'DELETE', url: `${resourceType}/${id}` },
      response: { status: event.kind === 'create' ? '201' : event.kind === 'update' ? '200' : '204' },
    });
  }
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    meta: { profile: [SUBSCRIPTION_NOTIFICATION_PROFILE] },
    type: 'history',
    timestamp: new Date().toISOString(),
    entry: entries,
  };
}

/** `$status`: a searchset Bundle holding the SubscriptionStatus (type query-status). */
export function buildStatusBundle(input: Omit<NotificationInput, 'type' | 'events'>): Bundle {
  return buildStatusesBundle([input]);
}

/** Type-level `$status`: a searchset Bundle with one SubscriptionStatus (type query-status) per Subscription. */
export function buildStatusesBundle(inputs: readonly Omit<NotificationInput, 'type' | 'events'>[]): Bundle {
  const statuses = inputs.map((input) => buildSubscriptionStatus({ ...input, type: 'query-status' }));
  return {
    resourceType: 'Bundle',
    id: randomUUID(),
    type: 'searchset',
    total: statuses.length,
    timestamp: new Date().toISOString(),
    entry: statuses.map((status) => ({ fullUrl: `urn:uuid:${status.id ?? ''}`, resource: status, search: { mode: 'match' } })),
  };
}
