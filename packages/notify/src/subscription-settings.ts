/**
 * What a Backport-style R4 Subscription asks for, read once into a typed {@link SubscriptionSettings}, and the rules a
 * Subscription must satisfy (topic, filters, rest-hook endpoint, headers, payload), with what the Backport IG's
 * backport-subscription profile adds for a Subscription that claims it (the profile is checked here, in code). The write rule uses it to refuse a
 * bad Subscription with a 4xx OperationOutcome; the worker uses it to match and deliver.
 */
import { parseSearchRequest, type SearchRequest } from '@medplum/core';
import type { Element, Extension, Subscription, SubscriptionChannel } from '@medplum/fhirtypes';
import { BACKPORT_SUBSCRIPTION_PROFILE, badRequest, fail, unprocessable } from '@carecircle/fhir';
import { classifyHost, isAllowedKind } from '@carecircle/net';
import { findTopic, findTrigger, type SubscriptionTopicDefinition } from './topics';

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
export const FILTER_CRITERIA_EXTENSION = `${BACKPORT}/backport-filter-criteria`;
export const PAYLOAD_CONTENT_EXTENSION = `${BACKPORT}/backport-payload-content`;
export const HEARTBEAT_PERIOD_EXTENSION = `${BACKPORT}/backport-heartbeat-period`;
export const TIMEOUT_EXTENSION = `${BACKPORT}/backport-timeout`;
export const MAX_COUNT_EXTENSION = `${BACKPORT}/backport-max-count`;
/** The Backport IG's extension for channel types R4 lacks; we deliver by rest-hook only. */
export const CHANNEL_TYPE_EXTENSION = `${BACKPORT}/backport-channel-type`;
export const SUBSCRIPTION_SECRET_EXTENSION = 'https://carecircle.dev/fhir/StructureDefinition/subscription-secret';

/**
 * A Subscription with the primitive-element extensions the Backport IG uses (`_criteria` for filters,
 * `channel._payload` for the payload content), which @medplum/fhirtypes does not model.
 */
export type BackportSubscription = Subscription & {
  _criteria?: Element;
  channel?: SubscriptionChannel & { _payload?: Element; _type?: Element };
};

export type PayloadContent = 'empty' | 'id-only' | 'full-resource';
export const PAYLOAD_CONTENTS: readonly PayloadContent[] = ['empty', 'id-only', 'full-resource'];

/** A subscription filter: `Task?owner=Organization/x` parsed for @medplum/core's matcher. */
export interface SubscriptionFilter {
  resourceType: string;
  /** As the subscriber wrote it. */
  criteria: string;
  search: SearchRequest;
}

export interface SubscriptionSettings {
  topic: SubscriptionTopicDefinition;
  filters: SubscriptionFilter[];
  endpoint: URL;
  /** `channel.header` as name/value pairs. */
  headers: [string, string][];
  content: PayloadContent;
  /** Seconds between heartbeats, when the subscriber asked for them. */
  heartbeatPeriod: number | undefined;
  /** Seconds one delivery may take (extension backport-timeout), when the subscriber set it. */
  timeoutSeconds: number | undefined;
  /**
   * Most triggering resources per notification (extension backport-max-count), when set. Every notification carries
   * one event, so any value is honoured.
   */
  maxCount: number | undefined;
  /** When the subscription ends (Subscription.end): it is turned off then. */
  end: Date | undefined;
}

export interface EndpointRules {
  /**
   * Accept endpoints on loopback addresses (127.0.0.0/8, ::1, localhost), over `http:` too: development and tests
   * only. Default false: https to public addresses only. Private, link-local, metadata, multicast and reserved
   * addresses are refused either way (@carecircle/net).
   */
  allowLoopbackHttp?: boolean;
}

/** Headers the server sets itself; a subscription may not supply them. */
const RESERVED_HEADERS = new Set(['content-type', 'content-length', 'host', 'connection', 'transfer-encoding']);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
// What HTTP lets a header value hold (RFC 9110: visible ASCII, space, tab, obs-text), and Node puts on the wire.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const MIN_HEARTBEAT_SECONDS = 10;
const MAX_HEADERS = 10;
/** Search modifiers a filter may use, and the values `:missing` takes. */
const FILTER_MODIFIERS = new Set(['missing', 'exact', 'contains', 'not', 'text', 'identifier', 'above', 'below', 'in', 'not-in', 'of-type']);

/**
 * Reads and checks a Subscription's settings. Throws 400 (malformed) or 422 (well-formed but not something we serve:
 * unknown topic, filter on a parameter the topic does not allow, forbidden endpoint).
 */
export function readSubscriptionSettings(subscription: BackportSubscription, rules: EndpointRules = {}): SubscriptionSettings {
  // The body is whatever a client sent: every element is checked for its JSON shape before it is used.
  if (typeof subscription.criteria !== 'string') {
    fail(badRequest('Subscription.criteria must be a string (a SubscriptionTopic canonical)', 'Subscription.criteria'));
  }
  const topic = findTopic(subscription.criteria);
  if (!topic) {
    fail(unprocessable('Subscription.criteria must be the canonical of a CareCircle SubscriptionTopic', 'Subscription.criteria'));
  }
  const channel = subscription.channel;
  if (!isObject(channel)) {
    fail(badRequest('Subscription.channel must be an object', 'Subscription.channel'));
  }
  if (channel.type !== 'rest-hook' || extensionsOf(channel._type, 'Subscription.channel.type').some((e) => e.url === CHANNEL_TYPE_EXTENSION)) {
    fail(unprocessable('Only rest-hook channels are supported (no backport-channel-type)', 'Subscription.channel.type'));
  }
  if (claimsProfile(subscription, BACKPORT_SUBSCRIPTION_PROFILE)) {
    checkBackportProfile(subscription);
  }
  const payloadMime = channel.payload;
  if (payloadMime !== 'application/fhir+json') {
    fail(unprocessable('Subscription.channel.payload must be application/fhir+json', 'Subscription.channel.payload'));
  }
  return {
    topic,
    filters: readFilters(subscription, topic),
    endpoint: checkEndpoint(channel.endpoint, rules),
    headers: readHeaders(channel.header),
    content: readPayloadContent(subscription),
    heartbeatPeriod: readHeartbeatPeriod(subscription),
    timeoutSeconds: readTimeout(subscription),
    maxCount: readMaxCount(subscription),
    end: readEnd(subscription),
  };
}

function claimsProfile(subscription: Subscription, url: string): boolean {
  const profiles: unknown = subscription.meta?.profile;
  return Array.isArray(profiles) && profiles.includes(url);
}

/**
 * What the Backport IG's backport-subscription profile adds to R4 for a Subscription that claims it (the rest holds
 * for every Subscription and is checked below): `criteria` (the topic canonical) and `channel.payload` present, and
 * exactly one backport-payload-content on `channel._payload`. Each failure is a 400 naming the profile.
 */
function checkBackportProfile(subscription: BackportSubscription): void {
  const payload = subscription.channel?.payload;
  if (typeof payload !== 'string') {
    fail(badRequest(`${BACKPORT_SUBSCRIPTION_PROFILE} requires Subscription.channel.payload (application/fhir+json)`, 'Subscription.channel.payload'));
  }
  const contents = extensionsOf(subscription.channel?._payload, 'Subscription.channel.payload').filter((e) => e.url === PAYLOAD_CONTENT_EXTENSION);
  if (contents.length !== 1) {
    fail(
      badRequest(
        `${BACKPORT_SUBSCRIPTION_PROFILE} requires exactly one ${PAYLOAD_CONTENT_EXTENSION} (valueCode empty, id-only or full-resource) on Subscription.channel._payload`,
        'Subscription.channel.payload',
      ),
    );
  }
}

/** The one extension of `url` on `element`, if any; a repeated one is a 400 (the Backport IG allows it once). */
function singleExtension(element: unknown, url: string, expression: string): Extension | undefined {
  const found = extensionsOf(element, expression).filter((e) => e.url === url);
  if (found.length > 1) {
    fail(badRequest(`${url} may appear only once`, expression));
  }
  return found[0];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The extensions of an element, when they have the shape of extensions; 400 otherwise. */
export function extensionsOf(element: unknown, expression: string): Extension[] {
  if (element === undefined) {
    return [];
  }
  if (!isObject(element)) {
    fail(badRequest('Expected an object', expression));
  }
  const list = element.extension;
  if (list === undefined) {
    return [];
  }
  if (!Array.isArray(list) || !list.every((e) => isObject(e) && typeof e.url === 'string')) {
    fail(badRequest('Extensions must be a list of objects with a url', expression));
  }
  return list as Extension[];
}

function readFilters(subscription: BackportSubscription, topic: SubscriptionTopicDefinition): SubscriptionFilter[] {
  const values = extensionsOf(subscription._criteria, 'Subscription.criteria').filter((e) => e.url === FILTER_CRITERIA_EXTENSION);
  return values.map((extension) => {
    const criteria = extension.valueString;
    if (typeof criteria !== 'string' || !criteria) {
      fail(badRequest('A filter criteria extension needs a valueString such as Task?owner=Organization/x', 'Subscription.criteria'));
    }
    const [resourceType = '', query = ''] = criteria.split('?', 2);
    const trigger = findTrigger(topic, resourceType);
    if (!trigger) {
      fail(unprocessable(`Topic ${topic.id} has no resource type ${safeName(resourceType)} to filter`, 'Subscription.criteria'));
    }
    const params = new URLSearchParams(query);
    if (params.size === 0) {
      fail(badRequest('A filter needs at least one parameter', 'Subscription.criteria'));
    }
    for (const [name, value] of params) {
      const [code = '', modifier] = name.split(':', 2);
      if (modifier !== undefined && !FILTER_MODIFIERS.has(modifier)) {
        fail(badRequest(`Unknown search modifier :${safeName(modifier)}`, 'Subscription.criteria'));
      }
      if (modifier === 'missing' && value !== 'true' && value !== 'false') {
        fail(badRequest(':missing takes true or false', 'Subscription.criteria'));
      }
      if (!trigger.filterParameters.includes(code)) {
        fail(
          unprocessable(
            `Topic ${topic.id} does not allow filtering ${resourceType} by ${safeName(code)}; allowed: ${trigger.filterParameters.join(', ')}`,
            'Subscription.criteria',
          ),
        );
      }
    }
    let search: SearchRequest;
    try {
      search = parseSearchRequest(criteria);
    } catch {
      fail(badRequest('The filter is not a valid search', 'Subscription.criteria'));
    }
    return { resourceType, criteria, search };
  });
}

/**
 * Checks a rest-hook endpoint: an absolute https URL without credentials, whose host is not an address the server
 * must never call (loopback unless allowed, private, link-local and metadata, multicast, reserved). Names that are not
 * IP literals are checked again, resolved, when the worker connects.
 */
export function checkEndpoint(endpoint: unknown, rules: EndpointRules = {}): URL {
  let url: URL;
  try {
    url = new URL(typeof endpoint === 'string' ? endpoint : '');
  } catch {
    fail(badRequest('Subscription.channel.endpoint must be an absolute URL', 'Subscription.channel.endpoint'));
  }
  if (url.username || url.password) {
    fail(unprocessable('The endpoint may not carry credentials; use channel.header', 'Subscription.channel.endpoint'));
  }
  const kind = classifyHost(url.hostname);
  const addressRules = { allowLoopback: rules.allowLoopbackHttp === true };
  if (kind !== undefined && !isAllowedKind(kind, addressRules)) {
    fail(unprocessable(`The endpoint may not be a ${kind} address`, 'Subscription.channel.endpoint'));
  }
  const loopbackAllowed = kind === 'loopback' && addressRules.allowLoopback;
  if (url.protocol === 'https:' || (url.protocol === 'http:' && loopbackAllowed)) {
    return url;
  }
  fail(unprocessable('The endpoint must use https', 'Subscription.channel.endpoint'));
}

function readHeaders(lines: unknown): [string, string][] {
  if (lines === undefined) {
    return [];
  }
  if (!Array.isArray(lines) || !lines.every((line): line is string => typeof line === 'string')) {
    fail(badRequest('Subscription.channel.header must be a list of "Name: value" strings', 'Subscription.channel.header'));
  }
  if (lines.length > MAX_HEADERS) {
    fail(unprocessable(`At most ${MAX_HEADERS} channel headers`, 'Subscription.channel.header'));
  }
  return lines.map((line) => {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    const value = colon > 0 ? line.slice(colon + 1).trim() : '';
    if (!HEADER_NAME.test(name) || !HEADER_VALUE.test(value) || value.length > 4096) {
      fail(badRequest('Each channel.header must be "Name: value"', 'Subscription.channel.header'));
    }
    const lower = name.toLowerCase();
    if (RESERVED_HEADERS.has(lower) || lower.startsWith('x-carecircle-')) {
      fail(unprocessable(`Header ${name} is set by the server`, 'Subscription.channel.header'));
    }
    return [name, value];
  });
}

function readPayloadContent(subscription: BackportSubscription): PayloadContent {
  const extension = singleExtension(subscription.channel?._payload, PAYLOAD_CONTENT_EXTENSION, 'Subscription.channel.payload');
  if (!extension) {
    return 'id-only';
  }
  const code = extension.valueCode;
  if (!PAYLOAD_CONTENTS.includes(code as PayloadContent)) {
    fail(badRequest('backport-payload-content must be empty, id-only or full-resource', 'Subscription.channel.payload'));
  }
  return code as PayloadContent;
}

function readHeartbeatPeriod(subscription: Subscription): number | undefined {
  const extension = singleExtension(subscription.channel, HEARTBEAT_PERIOD_EXTENSION, 'Subscription.channel');
  if (!extension) {
    return undefined;
  }
  const seconds = extension.valueUnsignedInt ?? extension.valueInteger;
  if (seconds === undefined || !Number.isInteger(seconds) || seconds < MIN_HEARTBEAT_SECONDS) {
    fail(unprocessable(`The heartbeat period must be at least ${MIN_HEARTBEAT_SECONDS} seconds`, 'Subscription.channel'));
  }
  return seconds;
}

/** backport-timeout: seconds a delivery may take (the worker's NOTIFY_REQUEST_TIMEOUT_MS still bounds it). */
function readTimeout(subscription: Subscription): number | undefined {
  const extension = singleExtension(subscription.channel, TIMEOUT_EXTENSION, 'Subscription.channel');
  if (!extension) {
    return undefined;
  }
  const seconds = extension.valueUnsignedInt ?? extension.valueInteger;
  if (seconds === undefined || !Number.isInteger(seconds) || seconds < 1) {
    fail(unprocessable('The backport-timeout must be a positive number of seconds', 'Subscription.channel'));
  }
  return seconds;
}

/** backport-max-count: a positiveInt. */
function readMaxCount(subscription: Subscription): number | undefined {
  const extension = singleExtension(subscription.channel, MAX_COUNT_EXTENSION, 'Subscription.channel');
  if (!extension) {
    return undefined;
  }
  const count = extension.valuePositiveInt;
  if (count === undefined || !Number.isInteger(count) || count < 1) {
    fail(badRequest('backport-max-count needs a valuePositiveInt', 'Subscription.channel'));
  }
  return count;
}

function readEnd(subscription: Subscription): Date | undefined {
  if (subscription.end === undefined) {
    return undefined;
  }
  const end = typeof subscription.end === 'string' ? Date.parse(subscription.end) : Number.NaN;
  if (Number.isNaN(end)) {
    fail(badRequest('Subscription.end must be an instant', 'Subscription.end'));
  }
  return new Date(end);
}

/** A name for an error message: ours, or a marker when it is not a plain token (messages never echo input). */
function safeName(value: string): string {
  return /^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(value) ? value : '(invalid)';
}
