/**
 * Subscriptions as the Backport IG publishes them, over HTTP: a Subscription claiming the IG's backport-subscription
 * profile is accepted and held to what the profile adds (one backport-payload-content, the backport extensions once
 * each, rest-hook only); an unknown profile is refused naming its whole URL; an unsigned Subscription (the IG's example
 * as published) is refused with a 422 that says how to sign; and the type-level `$status` reports every Subscription
 * the caller sees, and nothing of another organization's.
 */
import type { Bundle, OperationOutcome, Parameters, Subscription } from '@medplum/fhirtypes';
import { buildOrganization } from '@carecircle/testing';
import { registerSystemClient } from '../smart-test-clients';
import { createTestApp, fhirClient, type TestApp } from '../test-harness';

const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
const PROFILE = `${BACKPORT}/backport-subscription`;
const TOPIC = 'https://carecircle.dev/fhir/SubscriptionTopic/referral';
const SECRET = { url: 'https://carecircle.dev/fhir/StructureDefinition/subscription-secret', valueString: 'a-partner-chosen-secret-of-at-least-32-chars' };

let t: TestApp;
let tokenA: string;
let tokenB: string;

/**
 * The Backport IG 1.1.0 example "Backported Subscription: Admission" (Subscription/subscription-admission) as
 * published, with our topic and endpoint in place of its own and an `end` still to come.
 */
function igAdmissionExample(endpoint = 'https://partner.example/fhir/r4/$subscription-hook'): Subscription & Record<string, unknown> {
  return {
    resourceType: 'Subscription',
    id: 'subscription-admission',
    meta: { profile: [PROFILE] },
    status: 'active',
    end: new Date(Date.now() + 86_400_000).toISOString(),
    reason: 'R4/B Example Topic-Based Subscription for Patient Admission',
    criteria: TOPIC,
    _criteria: { extension: [{ url: `${BACKPORT}/backport-filter-criteria`, valueString: 'Task?owner=Organization/123' }] },
    channel: {
      extension: [
        { url: `${BACKPORT}/backport-heartbeat-period`, valueUnsignedInt: 86400 },
        { url: `${BACKPORT}/backport-timeout`, valueUnsignedInt: 60 },
        { url: `${BACKPORT}/backport-max-count`, valuePositiveInt: 20 },
      ],
      type: 'rest-hook',
      endpoint,
      payload: 'application/fhir+json',
      _payload: { extension: [{ url: `${BACKPORT}/backport-payload-content`, valueCode: 'id-only' }] },
    } as Subscription['channel'],
  };
}

const signed = (s: Subscription): Subscription => ({ ...s, extension: [...(s.extension ?? []), SECRET] });
const text = (body: unknown) => ((body as OperationOutcome).issue ?? []).map((i) => i.details?.text ?? '').join(' | ');

beforeAll(async () => {
  t = await createTestApp();
  const admin = fhirClient(t, t.adminToken);
  const orgA = `Organization/${(await admin.post('Organization', buildOrganization({ name: 'Partner A' }))).body.id}`;
  const orgB = `Organization/${(await admin.post('Organization', buildOrganization({ name: 'Partner B' }))).body.id}`;
  tokenA = await (await registerSystemClient(t, orgA, 'system/Subscription.cruds')).token();
  tokenB = await (await registerSystemClient(t, orgB, 'system/Subscription.cruds')).token();
});
afterAll(async () => {
  await t.close();
});

describe('the backport-subscription profile', () => {
  test('the IG example, signed, is accepted as requested with its profile and extensions kept', async () => {
    const res = await fhirClient(t, tokenA).post('Subscription', signed(igAdmissionExample()));
    expect(res.status).toBe(201);
    const created = res.body as Subscription & { channel: { _payload?: unknown } };
    expect(created.status).toBe('requested');
    expect(created.meta?.profile).toEqual([PROFILE]);
    expect(created.channel.extension?.map((e) => e.url)).toEqual([
      `${BACKPORT}/backport-heartbeat-period`,
      `${BACKPORT}/backport-timeout`,
      `${BACKPORT}/backport-max-count`,
    ]);
    expect(JSON.stringify(created)).not.toContain(SECRET.valueString);
  });

  test.each<[string, (s: Subscription & Record<string, unknown>) => unknown, number, RegExp]>([
    ['no backport-payload-content', (s) => ({ ...s, channel: { ...(s.channel as object), _payload: undefined } }), 400, /requires exactly one .*backport-payload-content/],
    [
      'two backport-payload-content',
      (s) => ({ ...s, channel: { ...(s.channel as object), _payload: { extension: [{ url: `${BACKPORT}/backport-payload-content`, valueCode: 'id-only' }, { url: `${BACKPORT}/backport-payload-content`, valueCode: 'empty' }] } } }),
      400,
      /requires exactly one .*backport-payload-content/,
    ],
    [
      'a repeated heartbeat period',
      (s) => ({ ...s, channel: { ...(s.channel as object), extension: [{ url: `${BACKPORT}/backport-heartbeat-period`, valueUnsignedInt: 60 }, { url: `${BACKPORT}/backport-heartbeat-period`, valueUnsignedInt: 90 }] } }),
      400,
      /backport-heartbeat-period may appear only once/,
    ],
    ['a max count of 0', (s) => ({ ...s, channel: { ...(s.channel as object), extension: [{ url: `${BACKPORT}/backport-max-count`, valuePositiveInt: 0 }] } }), 400, /range 1\.\./],
    [
      'a custom channel type',
      (s) => ({ ...s, channel: { ...(s.channel as object), _type: { extension: [{ url: `${BACKPORT}/backport-channel-type`, valueCoding: { system: 'http://example.org/subscription-channel-type', code: 'zulip' } }] } } }),
      422,
      /Only rest-hook/,
    ],
    ['criteria that is not one of our topics', (s) => ({ ...s, criteria: 'http://hl7.org/SubscriptionTopic/admission' }), 422, /SubscriptionTopic/],
  ])('%s is refused', async (_name, change, status, message) => {
    const res = await fhirClient(t, tokenA).post('Subscription', signed(change(igAdmissionExample()) as Subscription));
    expect(res.status).toBe(status);
    expect(text(res.body)).toMatch(message);
  });

  test('the profile claimed by another type is refused naming what it constrains', async () => {
    const res = await fhirClient(t, t.adminToken).post('Organization', { ...buildOrganization({ name: 'X' }), meta: { profile: [PROFILE] } });
    expect(res.status).toBe(400);
    expect(text(res.body)).toContain(`Profile ${PROFILE} constrains Subscription, not Organization`);
  });

  test('an unknown profile is refused naming its whole URL', async () => {
    const unknown = 'http://hl7.org/fhir/uv/some-other-guide/StructureDefinition/a-rather-long-subscription-profile-name|2.0.0';
    const res = await fhirClient(t, tokenA).post('Subscription', { ...signed(igAdmissionExample()), meta: { profile: [unknown] } });
    expect(res.status).toBe(400);
    expect(text(res.body)).toContain(`Unknown profile ${unknown}: this server cannot check conformance to it`);
  });
});

describe('an unsigned Subscription', () => {
  test('the IG example as published (no secret) is refused with 422 naming the extension and how to sign', async () => {
    const res = await fhirClient(t, tokenA).post('Subscription', igAdmissionExample());
    expect(res.status).toBe(422);
    const outcome = res.body as OperationOutcome;
    expect(outcome.issue?.[0]?.expression).toEqual(['Subscription.extension']);
    expect(text(outcome)).toContain('"url": "https://carecircle.dev/fhir/StructureDefinition/subscription-secret"');
    expect(text(outcome)).toContain('X-CareCircle-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256');
  });
});

describe('type-level $status', () => {
  const statusesOf = (bundle: Bundle) =>
    (bundle.entry ?? []).map((e) => {
      const parameters = (e.resource as Parameters).parameter ?? [];
      const find = (name: string) => parameters.find((p) => p.name === name);
      return { subscription: find('subscription')?.valueReference?.reference, type: find('type')?.valueCode, status: find('status')?.valueCode };
    });

  test("reports every Subscription the caller sees, by id and status if asked, and nothing of another organization's", async () => {
    const mine = [
      (await fhirClient(t, tokenA).post('Subscription', signed({ ...igAdmissionExample(), meta: undefined }))).body as Subscription,
      (await fhirClient(t, tokenA).post('Subscription', signed(igAdmissionExample()))).body as Subscription,
    ];
    const theirs = (await fhirClient(t, tokenB).post('Subscription', signed(igAdmissionExample()))).body as Subscription;
    const off = (await fhirClient(t, tokenA).put(`Subscription/${mine[0]?.id}`, { ...mine[0], status: 'off' })).body as Subscription;
    expect(off.status).toBe('off');

    const all = await fhirClient(t, tokenA).get('Subscription/$status').expect(200);
    const reported = statusesOf(all.body as Bundle);
    expect(reported.every((s) => s.type === 'query-status')).toBe(true);
    const urls = reported.map((s) => s.subscription);
    for (const s of mine) {
      expect(urls).toContain(`${t.services.config.fhirBaseUrl}/Subscription/${s.id}`);
    }
    expect(urls).not.toContain(`${t.services.config.fhirBaseUrl}/Subscription/${theirs.id}`);
    expect((all.body as Bundle).total).toBe(reported.length);

    const named = await fhirClient(t, tokenA).get(`Subscription/$status?id=${mine[1]?.id},${theirs.id}`).expect(200);
    expect(statusesOf(named.body as Bundle).map((s) => s.subscription)).toEqual([`${t.services.config.fhirBaseUrl}/Subscription/${mine[1]?.id}`]);

    const onlyOff = await fhirClient(t, tokenA).get('Subscription/$status?status=off').expect(200);
    expect(statusesOf(onlyOff.body as Bundle)).toEqual([{ subscription: `${t.services.config.fhirBaseUrl}/Subscription/${off.id}`, type: 'query-status', status: 'off' }]);

    const nothing = await fhirClient(t, tokenB).get(`Subscription/$status?id=${mine[1]?.id}`).expect(200);
    expect((nothing.body as Bundle).entry ?? []).toEqual([]);
  });

  test('an unknown parameter, a bad id or status is a 400 naming it', async () => {
    for (const [query, expression] of [
      ['nope=1', 'nope'],
      ['id=not%20an%20id', 'id'],
      ['status=sleeping', 'status'],
    ] as const) {
      const res = await fhirClient(t, tokenA).get(`Subscription/$status?${query}`);
      expect(res.status).toBe(400);
      expect((res.body as OperationOutcome).issue?.[0]?.expression).toEqual([expression]);
    }
  });
});
