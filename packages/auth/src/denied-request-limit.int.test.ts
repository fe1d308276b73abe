/**
 * The per-caller limit on refused requests against real Redis: counted per caller across replicas (two limit objects
 * over one Redis), the wait is what is left of the window, other callers are untouched; and with Redis not answering
 * the limit neither lapses nor refuses everyone: the process counts on its own and says so.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import type { Caller } from './caller';
import { createDeniedRequestLimit, DENIAL_WINDOW_SECONDS } from './denied-request-limit';

const system = (clientId: string): Caller =>
  ({ kind: 'system', clientId, organization: 'Organization/partner', scope: 'system/*.rs' }) as Caller;

let redis: Redis;
const config = {
  redisPrefix: `{test-${randomBytes(6).toString('hex')}}`,
  baseUrl: 'http://x',
  fhirBaseUrl: 'http://x/fhir/R4',
  adminToken: randomBytes(32).toString('hex'),
  env: 'test' as const,
};

beforeAll(() => {
  redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  const keys = await redis.keys(`${config.redisPrefix}:*`);
  if (keys.length > 0) {
    await redis.del(...keys);
  }
  redis.disconnect();
});

test('a caller past the limit waits out the window, counted across replicas; other callers do not', async () => {
  const down: unknown[] = [];
  const replicaA = createDeniedRequestLimit({ redis, config }, 2, (err) => down.push(err));
  const replicaB = createDeniedRequestLimit({ redis, config }, 2, (err) => down.push(err));
  const caller = system('flooding');
  expect(await replicaA.retryAfter(caller)).toBeUndefined();
  await replicaA.countRefusedRequest(caller);
  expect(await replicaB.retryAfter(caller)).toBeUndefined();
  await replicaB.countRefusedRequest(caller);
  const wait = await replicaA.retryAfter(caller);
  expect(wait).toBeGreaterThanOrEqual(1);
  expect(wait).toBeLessThanOrEqual(DENIAL_WINDOW_SECONDS);
  expect(await replicaB.retryAfter(system('bystander'))).toBeUndefined();
  // A client (patient) is never refused by consent, so never limited.
  const patient = { kind: 'patient', clientId: 'app', userId: 'u', fhirUser: 'Patient/p', scope: '' } as Caller;
  await replicaA.countRefusedRequest(patient);
  await replicaA.countRefusedRequest(patient);
  expect(await replicaA.retryAfter(patient)).toBeUndefined();
  expect(down).toEqual([]);
});

test('a replica asks Redis only about callers it has refused itself: one more refusal there, then the shared count holds', async () => {
  const down: unknown[] = [];
  const replicaA = createDeniedRequestLimit({ redis, config }, 2, (err) => down.push(err));
  const replicaB = createDeniedRequestLimit({ redis, config }, 2, (err) => down.push(err));
  const caller = system('refused-on-a');
  await replicaA.countRefusedRequest(caller);
  await replicaA.countRefusedRequest(caller);
  await replicaA.countRefusedRequest(caller);
  expect(await replicaA.retryAfter(caller)).toBeGreaterThanOrEqual(1);
  // B has refused this caller nothing in the window: it does not ask, and lets the request through.
  expect(await replicaB.retryAfter(caller)).toBeUndefined();
  // Once B refuses it too, B reads the shared count (4 >= 2) on every later request.
  await replicaB.countRefusedRequest(caller);
  expect(await replicaB.retryAfter(caller)).toBeGreaterThanOrEqual(1);
  const keys = await redis.keys(`${config.redisPrefix}:auth:denied:*`);
  const counts = await Promise.all(keys.map(async (key) => Number(await redis.get(key))));
  expect(counts).toContain(4);
  expect(down).toEqual([]);
});

test('with Redis not answering, the process counts on its own and reports it', async () => {
  // A port that was free a moment ago: nothing answers there.
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const gone = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, lazyConnect: true });
  gone.on('error', () => undefined);
  try {
    const down: unknown[] = [];
    const limit = createDeniedRequestLimit({ redis: gone, config }, 2, (err) => down.push(err));
    const caller = system('during-outage');
    expect(await limit.retryAfter(caller)).toBeUndefined();
    await limit.countRefusedRequest(caller);
    await limit.countRefusedRequest(caller);
    expect(await limit.retryAfter(caller)).toBeGreaterThanOrEqual(1);
    expect(down.length).toBeGreaterThan(0);
  } finally {
    gone.disconnect();
  }
});
