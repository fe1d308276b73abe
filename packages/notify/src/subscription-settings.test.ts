import { loadFhirDefinitions, validateFhirResource } from '@carecircle/fhir';
import { thrownStatus } from '@carecircle/testing';
import { buildBackportSubscription } from './subscription-builders';
import { readSubscriptionSettings } from './subscription-settings';
import { matchesSubscription } from './subscription-match';
import { listTopicResources } from './topic-resources';
import { buildNotificationBundle } from './notification-bundle';
import { signNotification, verifyNotificationSignature } from './signature';
import { DELIVERY_RETRY_POLICY, parseRetryAfter, retryDelayMs } from './retry-policy';

const REFERRAL = 'https://carecircle.dev/fhir/SubscriptionTopic/referral';

beforeAll(() => loadFhirDefinitions());

describe('subscription settings', () => {
  test('reads topic, filters, payload content, headers and heartbeat', () => {
    const settings = readSubscriptionSettings(
      buildBackportSubscription({
        topic: REFERRAL,
        endpoint: 'https://partner.example/hook',
        filters: ['Task?owner=Organization/p1'],
        content: 'full-resource',
        headers: ['Authorization: Bearer abc'],
        heartbeatPeriod: 60,
      }),
    );
    expect(settings.topic.id).toBe('referral');
    expect(settings.filters.map((f) => f.criteria)).toEqual(['Task?owner=Organization/p1']);
    expect(settings.content).toBe('full-resource');
    expect(settings.headers).toEqual([['Authorization', 'Bearer abc']]);
    expect(settings.heartbeatPeriod).toBe(60);
  });

  test('defaults to id-only', () => {
    expect(readSubscriptionSettings(buildBackportSubscription({ topic: REFERRAL, endpoint: 'https://p.example/h' })).content).toBe('id-only');
  });

  test.each([
    ['an unknown topic', { topic: 'https://carecircle.dev/fhir/SubscriptionTopic/nope' }, 422],
    ['http endpoint', { endpoint: 'http://partner.example/hook' }, 422],
    ['http loopback without permission', { endpoint: 'http://127.0.0.1:9/hook' }, 422],
    ['a relative endpoint', { endpoint: '/hook' }, 400],
    ['credentials in the endpoint', { endpoint: 'https://u:p@partner.example/hook' }, 422],
    ['a filter on a type outside the topic', { filters: ['Patient?name=x'] }, 422],
    ['a filter on a parameter the topic does not allow', { filters: ['Task?description=x'] }, 422],
    ['a header the server sets', { headers: ['X-CareCircle-Signature: forged'] }, 422],
    ['a malformed header', { headers: ['no colon'] }, 400],
    ['a header value HTTP cannot carry (DEL)', { headers: ['X-A: a\u007fb'] }, 400],
    ['a header value HTTP cannot carry (emoji)', { headers: ['X-A: \u{1F600}'] }, 400],
    ['a header value with a control character', { headers: ['X-A: a\u0001b'] }, 400],
    ['a too short heartbeat', { heartbeatPeriod: 1 }, 422],
    ['the metadata address', { endpoint: 'https://169.254.169.254/latest/meta-data/' }, 422],
    ['a private address', { endpoint: 'https://10.0.0.1/' }, 422],
    ['a 172.16/12 address', { endpoint: 'https://172.20.1.1/hook' }, 422],
    ['a 192.168/16 address', { endpoint: 'https://192.168.0.10/hook' }, 422],
    ['a carrier-grade NAT address', { endpoint: 'https://100.64.1.1/hook' }, 422],
    ['a unique-local IPv6 address', { endpoint: 'https://[fd00::1]/hook' }, 422],
    ['a link-local IPv6 address', { endpoint: 'https://[fe80::1]/hook' }, 422],
    ['an IPv4-mapped private address', { endpoint: 'https://[::ffff:10.0.0.1]/hook' }, 422],
    ['localhost over https', { endpoint: 'https://localhost/' }, 422],
    ['IPv6 loopback over https', { endpoint: 'https://[::1]/' }, 422],
    ['loopback Redis over https', { endpoint: 'https://127.0.0.1:6379/' }, 422],
    ['a loopback address in another notation', { endpoint: 'https://0x7f000001/' }, 422],
    ['the unspecified address', { endpoint: 'https://0.0.0.0/' }, 422],
    ['a multicast address', { endpoint: 'https://224.0.0.1/' }, 422],
    ['a metadata host name', { endpoint: 'https://metadata.google.internal/' }, 422],
    ['a :missing filter that is neither true nor false', { filters: ['Task?owner:missing=maybe'] }, 400],
    ['an unknown filter modifier', { filters: ['Task?owner:sideways=x'] }, 400],
  ])('refuses %s', (_name, facts, status) => {
    const subscription = buildBackportSubscription({ topic: REFERRAL, endpoint: 'https://partner.example/hook', ...facts });
    expect(thrownStatus(() => readSubscriptionSettings(subscription))).toBe(status);
  });

  test('accepts http on loopback when allowed', () => {
    const subscription = buildBackportSubscription({ topic: REFERRAL, endpoint: 'http://127.0.0.1:8999/hook' });
    expect(readSubscriptionSettings(subscription, { allowLoopbackHttp: true }).endpoint.port).toBe('8999');
  });

  test('in development loopback is allowed, private and metadata addresses still are not', () => {
    const dev = { allowLoopbackHttp: true };
    const at = (endpoint: string) => buildBackportSubscription({ topic: REFERRAL, endpoint });
    expect(readSubscriptionSettings(at('http://localhost:8999/hook'), dev).endpoint.hostname).toBe('localhost');
    expect(readSubscriptionSettings(at('https://[::1]:8999/hook'), dev).endpoint.hostname).toBe('[::1]');
    expect(thrownStatus(() => readSubscriptionSettings(at('https://169.254.169.254/'), dev))).toBe(422);
    expect(thrownStatus(() => readSubscriptionSettings(at('http://10.0.0.1/'), dev))).toBe(422);
    expect(thrownStatus(() => readSubscriptionSettings(at('http://partner.example/'), dev))).toBe(422);
  });

  test('a filter may ask for :missing=true', () => {
    const subscription = buildBackportSubscription({ topic: REFERRAL, endpoint: 'https://p.example/h', filters: ['Task?owner:missing=true'] });
    expect(readSubscriptionSettings(subscription).filters).toHaveLength(1);
  });

  test('reads backport-timeout and end', () => {
    const subscription = buildBackportSubscription({ topic: REFERRAL, endpoint: 'https://p.example/h', timeoutSeconds: 3 });
    const settings = readSubscriptionSettings({ ...subscription, end: '2030-01-01T00:00:00Z' });
    expect(settings.timeoutSeconds).toBe(3);
    expect(settings.end?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });

  test.each([
    ['criteria that is not a string', { criteria: 5 }],
    ['a channel that is a string', { channel: 'rest-hook' }],
    ['headers that are not strings', { channel: { type: 'rest-hook', endpoint: 'https://p.example/h', payload: 'application/fhir+json', header: [5, {}] } }],
    ['headers as one string', { channel: { type: 'rest-hook', endpoint: 'https://p.example/h', payload: 'application/fhir+json', header: 'X-A: b' } }],
    ['an endpoint that is not a string', { channel: { type: 'rest-hook', endpoint: 5, payload: 'application/fhir+json' } }],
    ['filter extensions that are not a list', { _criteria: { extension: 'x' } }],
    ['channel extensions that are not objects', { channel: { type: 'rest-hook', endpoint: 'https://p.example/h', payload: 'application/fhir+json', extension: ['x'] } }],
    ['an end that is not an instant', { end: 'soon' }],
  ])('answers 400, not a TypeError, for %s', (_name, change) => {
    const subscription = { ...buildBackportSubscription({ topic: REFERRAL, endpoint: 'https://p.example/h' }), ...change };
    expect(thrownStatus(() => readSubscriptionSettings(subscription as never))).toBe(400);
  });

  test('a Backport subscription is valid R4', () => {
    const subscription = buildBackportSubscription({
      topic: REFERRAL,
      endpoint: 'https://partner.example/hook',
      filters: ['Task?owner=Organization/p1'],
      content: 'id-only',
      heartbeatPeriod: 60,
    });
    expect(() => validateFhirResource({ ...subscription, id: 's1' })).not.toThrow();
  });
});

describe('matching', () => {
  const settings = readSubscriptionSettings(
    buildBackportSubscription({ topic: REFERRAL, endpoint: 'https://p.example/h', filters: ['Task?owner=Organization/p1'] }),
  );
  const task = (owner: string) => ({
    resourceType: 'Task' as const,
    id: 't1',
    status: 'requested' as const,
    intent: 'order' as const,
    owner: { reference: owner },
  });

  test('a filter on the changed type must pass', () => {
    expect(matchesSubscription(settings, 'update', task('Organization/p1'))).toBe(true);
    expect(matchesSubscription(settings, 'update', task('Organization/other'))).toBe(false);
  });

  test('types outside the topic and interactions it does not name never match', () => {
    expect(matchesSubscription(settings, 'delete', task('Organization/p1'))).toBe(false);
    expect(matchesSubscription(settings, 'create', { resourceType: 'Patient', id: 'x' })).toBe(false);
  });

  test('a topic type no filter names is unfiltered (R5 filterBy semantics)', () => {
    expect(
      matchesSubscription(settings, 'create', { resourceType: 'ServiceRequest', id: 's', status: 'active', intent: 'order', subject: { reference: 'Patient/1' } }),
    ).toBe(true);
  });
});

describe('topics and notifications as FHIR', () => {
  test('every topic is a valid R4 Basic', () => {
    const topics = listTopicResources();
    expect(topics.map((t) => t.id)).toEqual(['referral', 'communication', 'care-plan', 'consent', 'coordinated-update']);
    for (const topic of topics) {
      expect(() => validateFhirResource(topic)).not.toThrow();
    }
  });

  test('a notification bundle is a valid R4 history Bundle with the status first', () => {
    const bundle = buildNotificationBundle({
      subscription: { resourceType: 'Subscription', id: 's1', status: 'active', reason: 'x', criteria: REFERRAL, channel: { type: 'rest-hook' } },
      fhirBaseUrl: 'https://api.example/fhir/R4',
      type: 'event-notification',
      eventsSinceSubscriptionStart: 3,
      events: [{ eventNumber: 3, timestamp: new Date(), kind: 'update', focus: { resourceType: 'Task', id: 't1' } }],
    });
    // The Backport profiles are not loaded here (our validator refuses unknown profiles): check the R4 base structure.
    const withoutProfiles = JSON.parse(JSON.stringify(bundle, (key, value: unknown) => (key === 'meta' ? undefined : value)));
    expect(() => validateFhirResource(withoutProfiles)).not.toThrow();
    expect(bundle.entry?.[0]?.resource?.resourceType).toBe('Parameters');
    expect(bundle.entry?.[1]).toEqual({
      fullUrl: 'https://api.example/fhir/R4/Task/t1',
      request: { method: 'PUT', url: 'Task/t1' },
      response: { status: '200' },
    });
  });
});

describe('withheld events in a notification', () => {
  test('an event without focus shows its number only: no timestamp, no entry', () => {
    const bundle = buildNotificationBundle({
      subscription: { resourceType: 'Subscription', id: 's1', status: 'active', reason: 'x', criteria: REFERRAL, channel: { type: 'rest-hook' } },
      fhirBaseUrl: 'https://api.example/fhir/R4',
      type: 'query-event',
      eventsSinceSubscriptionStart: 2,
      events: [
        { eventNumber: 1, kind: 'create' },
        { eventNumber: 2, timestamp: new Date(0), kind: 'update', focus: { resourceType: 'Task', id: 't1' } },
      ],
    });
    const events = (bundle.entry?.[0]?.resource as { parameter: { name: string; part?: { name: string }[] }[] }).parameter.filter((p) => p.name === 'notification-event');
    expect(events.map((e) => e.part?.map((p) => p.name))).toEqual([['event-number'], ['event-number', 'timestamp', 'focus']]);
    expect(bundle.entry).toHaveLength(2);
  });
});

describe('signature and retry policy', () => {
  test('a signature verifies only for the same secret, body and a fresh timestamp', () => {
    const now = 1_700_000_000;
    const header = signNotification('s'.repeat(32), '{"a":1}', now);
    expect(verifyNotificationSignature('s'.repeat(32), '{"a":1}', header, now)).toBe(true);
    expect(verifyNotificationSignature('t'.repeat(32), '{"a":1}', header, now)).toBe(false);
    expect(verifyNotificationSignature('s'.repeat(32), '{"a":2}', header, now)).toBe(false);
    expect(verifyNotificationSignature('s'.repeat(32), '{"a":1}', header, now + 3600)).toBe(false);
  });

  test('delays double from the base and stop at the cap', () => {
    const noJitter = () => 0;
    expect([1, 2, 3, 7].map((n) => retryDelayMs(DELIVERY_RETRY_POLICY, n, noJitter))).toEqual([5_000, 10_000, 20_000, 320_000]);
    expect(retryDelayMs(DELIVERY_RETRY_POLICY, 20, noJitter)).toBe(600_000);
  });

  test('Retry-After in seconds or as a date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
