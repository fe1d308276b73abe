import { randomBytes } from 'node:crypto';
import { getRequestContext, runWithRequestContext } from '@carecircle/auth';
import { loadConfig } from '@carecircle/config';
import { createLogger } from '@carecircle/log';
import { buildBackportSubscription, createExtractSubscriptionSecret, recordSubscriptionEvents } from '@carecircle/notify';
import {
  createRepository,
  fullAccess,
  migrate,
  openDatabase,
  sql,
  withWriteRules,
  type AccessPolicy,
  type Database,
  type Repository,
} from '@carecircle/store';
import { buildTask, createTestDatabase, type TestDatabase } from '@carecircle/testing';
import type { Basic, Bundle, Parameters, ParametersParameter, Task } from '@medplum/fhirtypes';
import express from 'express';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import request from 'supertest';
import type { AppServices } from '../app-services';
import { handleFhirInteraction } from '../fhir/fhir-routes';
import { createOperationContext } from '../fhir/operations/operation-capabilities';
import { errorHandler } from '../http/error-handler';
import { sendFhir } from '../http/fhir-response';
import { queryParams } from '../http/query-params';
import { createTopicsRouter } from './routes';

const FHIR_BASE = 'https://carecircle.test/fhir/R4';
let database: TestDatabase;
let db: Database;
let writer: Repository;
let subscriptionId: string;
const tasks: Task[] = [];

/** A caller who may not see Subscriptions at all, or not Task `hiddenTaskId`. */
function restricted(hide: { subscriptions?: boolean; hiddenTaskId?: string }): AccessPolicy {
  return {
    assertInteraction: () => undefined,
    visibility: (type) =>
      type === 'Subscription' && hide.subscriptions ? sql`FALSE` : type === 'Task' && hide.hiddenTaskId ? sql`rv.id <> ${hide.hiddenTaskId}` : undefined,
    assertWrite: () => undefined,
  };
}

/**
 * The topics router and the FHIR route table as they are mounted: inside /fhir/R4, with the caller's repository in the
 * request context and the operations' capabilities made from it (no token, denial limit or body parsing: GETs only).
 */
function appFor(policy: AccessPolicy): express.Express {
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: database.url, BASE_URL: 'https://carecircle.test', REDIS_PREFIX: `{t-${randomBytes(3).toString('hex')}}` });
  const services: AppServices = { config, db, logger: createLogger('silent'), redis: undefined as unknown as Redis, metrics: new Registry() };
  const app = express();
  app.set('query parser', 'simple');
  const fhir = express.Router();
  fhir.use(createTopicsRouter(FHIR_BASE));
  fhir.use((_req, _res, next) => {
    runWithRequestContext({ requestId: 'test', caller: { kind: 'admin' }, repository: createRepository(db, policy) }, next);
  });
  fhir.get('/{*path}', async function runInteraction(req, res) {
    const requestContext = getRequestContext();
    const response = await handleFhirInteraction(
      { method: 'GET', path: req.path.replace(/^\/+/, ''), query: queryParams(req) },
      {
        repository: requestContext.repository,
        baseUrl: config.fhirBaseUrl,
        workflows: { referralDeadlines: config.referralDeadlines },
        operations: () => createOperationContext(services, requestContext),
      },
    );
    sendFhir(res, response.status, response.resource);
  });
  app.use('/fhir/R4', fhir);
  app.use(errorHandler(services.logger));
  return app;
}

beforeAll(async () => {
  database = await createTestDatabase();
  db = await openDatabase({ databaseUrl: database.url });
  await migrate(db);
  writer = createRepository(db, fullAccess, { writes: withWriteRules([createExtractSubscriptionSecret()], undefined) });
  const { resource } = await writer.create(
    buildBackportSubscription({
      topic: 'https://carecircle.dev/fhir/SubscriptionTopic/referral',
      endpoint: 'https://partner.example/hook',
      secret: 'x'.repeat(40),
    }),
  );
  subscriptionId = resource.id ?? '';
  for (let i = 0; i < 3; i++) {
    const { resource: task } = await writer.create(buildTask('p1', { owner: { reference: 'Organization/partner' } }));
    tasks.push(task);
    await recordSubscriptionEvents(db, [subscriptionId], {
      eventId: crypto.randomUUID(),
      kind: 'create',
      resourceType: 'Task',
      resourceId: task.id ?? '',
      versionId: 1,
      occurredAt: Date.now(),
    });
  }
});

afterAll(async () => {
  await db.close();
  await database.drop();
});

function statusParameter(bundle: Bundle, name: string): ParametersParameter[] {
  const status = bundle.entry?.[0]?.resource as Parameters;
  return (status.parameter ?? []).filter((p) => p.name === name);
}

function eventNumbers(bundle: Bundle): string[] {
  return statusParameter(bundle, 'notification-event').map((p) => p.part?.find((q) => q.name === 'event-number')?.valueString ?? '');
}

describe('topics', () => {
  test('are served read-only as Backport R4 Basic resources', async () => {
    const app = appFor(fullAccess);
    const all = await request(app).get('/fhir/R4/SubscriptionTopic').expect(200);
    expect((all.body as Bundle).entry?.map((e) => e.resource?.id)).toEqual(['referral', 'communication', 'care-plan', 'consent', 'coordinated-update']);
    const referral = await request(app).get('/fhir/R4/SubscriptionTopic/referral').expect(200);
    expect((referral.body as Basic).code.coding?.[0]?.code).toBe('SubscriptionTopic');
    const byUrl = await request(app).get('/fhir/R4/SubscriptionTopic').query({ url: 'https://carecircle.dev/fhir/SubscriptionTopic/consent' }).expect(200);
    expect((byUrl.body as Bundle).entry?.map((e) => e.resource?.id)).toEqual(['consent']);
    await request(app).get('/fhir/R4/SubscriptionTopic/nope').expect(404);
  });
});

describe('$status and $events', () => {
  test('$status is a searchset with the SubscriptionStatus and the event count', async () => {
    const res = await request(appFor(fullAccess)).get(`/fhir/R4/Subscription/${subscriptionId}/$status`).expect(200);
    const bundle = res.body as Bundle;
    expect(bundle.type).toBe('searchset');
    expect(statusParameter(bundle, 'type')).toEqual([{ name: 'type', valueCode: 'query-status' }]);
    expect(statusParameter(bundle, 'events-since-subscription-start')).toEqual([{ name: 'events-since-subscription-start', valueString: '3' }]);
  });

  test('$events returns missed events again by number', async () => {
    const res = await request(appFor(fullAccess))
      .get(`/fhir/R4/Subscription/${subscriptionId}/$events`)
      .query({ eventsSinceNumber: '2', eventsUntilNumber: '3' })
      .expect(200);
    const bundle = res.body as Bundle;
    expect(bundle.type).toBe('history');
    expect(statusParameter(bundle, 'type')).toEqual([{ name: 'type', valueCode: 'query-event' }]);
    expect(eventNumbers(bundle)).toEqual(['2', '3']);
    expect(bundle.entry?.slice(1).map((e) => e.fullUrl)).toEqual([`${FHIR_BASE}/Task/${tasks[1]?.id}`, `${FHIR_BASE}/Task/${tasks[2]?.id}`]);
    expect(bundle.entry?.[1]?.resource).toBeUndefined();
  });

  test('$events with full-resource carries the resources the caller may read', async () => {
    const res = await request(appFor(fullAccess))
      .get(`/fhir/R4/Subscription/${subscriptionId}/$events`)
      .query({ eventsSinceNumber: '1', eventsUntilNumber: '1', content: 'full-resource' })
      .expect(200);
    expect(((res.body as Bundle).entry?.[1]?.resource as Task).id).toBe(tasks[0]?.id);
  });

  test('a resource the caller may not see (revoked) keeps its number but loses its focus and entry', async () => {
    const res = await request(appFor(restricted({ hiddenTaskId: tasks[1]?.id })))
      .get(`/fhir/R4/Subscription/${subscriptionId}/$events`)
      .query({ content: 'full-resource' })
      .expect(200);
    const bundle = res.body as Bundle;
    expect(eventNumbers(bundle)).toEqual(['1', '2', '3']);
    expect(JSON.stringify(bundle)).not.toContain(tasks[1]?.id);
    expect(bundle.entry).toHaveLength(3);
  });

  test('a caller who cannot see the subscription gets 404 from both operations', async () => {
    const app = appFor(restricted({ subscriptions: true }));
    await request(app).get(`/fhir/R4/Subscription/${subscriptionId}/$status`).expect(404);
    await request(app).get(`/fhir/R4/Subscription/${subscriptionId}/$events`).expect(404);
  });

  test('bad parameters are 400, never 500', async () => {
    const app = appFor(fullAccess);
    await request(app).get(`/fhir/R4/Subscription/${subscriptionId}/$events`).query({ eventsSinceNumber: '-1' }).expect(400);
    await request(app).get(`/fhir/R4/Subscription/${subscriptionId}/$events`).query({ content: 'everything' }).expect(400);
  });
});
