/**
 * Notification delivery with one worker, beside a raw baseline measured in the same run (the same signed body POSTed
 * straight to the same receiver over loopback, one at a time, as delivery per subscription is ordered), so the ratio
 * says what the outbox, BullMQ, matching, the consent gate and signing cost:
 *
 * 1. latency from commit to receipt (p50/p99) at a steady ~20 changes/s, for two subscribers at once: the custodian's
 *    own system, and a partner clinic that sees the client's progress under a consent (its deliveries go through the
 *    consent gate: grants loaded, the version read as the partner, the disclosure audited);
 * 2. drain rate: with the worker stopped, a burst of changes is written concurrently (so the write rate does not cap
 *    the measure), then a worker is started and the time until the last receipt gives deliveries/s; once for the
 *    custodian's subscription alone and once for the partner's alone.
 *
 *   npm run bench   (needs PostgreSQL and Redis like the tests)
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServerRepository } from '@carecircle/access';
import { createTestApp, fhirClient, registerSystemClient, type TestApp } from '@carecircle/api/testing';
import { buildSharingConsent } from '@carecircle/consent';
import { createLogger } from '@carecircle/log';
import { buildBackportSubscription } from '@carecircle/notify';
import { buildOrganization, buildPatient } from '@carecircle/testing';
import { startWorker, type RunningWorker } from '@carecircle/worker';
import type { Bundle, Communication, Patient, Subscription } from '@medplum/fhirtypes';

const LATENCY_EVENTS = 200;
const BURST_EVENTS = 500;
/** Writes in flight while the burst is written. */
const WRITE_CONCURRENCY = 16;
const SECRET = 'benchmark-secret-benchmark-secret-0123';
const TOPIC = 'https://carecircle.dev/fhir/SubscriptionTopic/communication';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  /** First receipt time per `path id`. */
  const receipts = new Map<string, number>();
  let bodies = 0;
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      bodies++;
      const bundle = JSON.parse(body) as Bundle;
      for (const entry of bundle.entry?.slice(1) ?? []) {
        const key = `${req.url ?? ''} ${entry.fullUrl?.split('/').pop() ?? ''}`;
        if (!receipts.has(key)) {
          receipts.set(key, performance.now());
        }
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

  const t = await createTestApp({ NOTIFY_ALLOW_LOOPBACK_HTTP: 'true', LOG_LEVEL: 'silent' });
  const start = () => startWorker({ config: t.services.config, db: t.services.db, logger: createLogger('silent') });
  let worker: RunningWorker = await start();
  try {
    const admin = fhirClient(t, t.adminToken);
    const practice = `Organization/${(await admin.post('Organization', buildOrganization())).body.id}`;
    const clinic = `Organization/${(await admin.post('Organization', buildOrganization({ name: 'Partner clinic' }))).body.id}`;
    const practiceToken = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
    const clinicToken = await (await registerSystemClient(t, clinic, 'system/*.cruds')).token();
    const client = (await fhirClient(t, practiceToken).post('Patient', buildPatient())).body as Patient;
    const consent = {
      ...buildSharingConsent({ patient: `Patient/${client.id}`, custodian: practice, recipients: [clinic], categories: ['progress'] }),
      sourceAttachment: { contentType: 'application/pdf', data: 'JVBERi0=' },
    };
    await fhirClient(t, practiceToken).post('Consent', consent);
    const writer = createServerRepository(t.services.db, { allowLoopbackHttp: true });
    const custodian = await subscribe(t, practiceToken, writer, `${base}/custodian`);
    const partner = await subscribe(t, clinicToken, writer, `${base}/partner`);

    const message = (i: number): Communication => ({
      resourceType: 'Communication',
      status: 'completed',
      subject: { reference: `Patient/${client.id}` },
      sender: { reference: practice },
      payload: [{ contentString: `Homework check-in ${i}` }],
    });
    const waitForAll = async (path: string, ids: string[]) => {
      const deadline = Date.now() + 300_000;
      while (ids.some((id) => !receipts.has(`${path} ${id}`)) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      if (ids.some((id) => !receipts.has(`${path} ${id}`))) {
        throw new Error(`not every notification reached ${path}`);
      }
    };

    // 1. Latency: changes at a steady ~20 per second, commit (create resolved) to first receipt, both subscribers.
    const committed = new Map<string, number>();
    for (let i = 0; i < LATENCY_EVENTS; i++) {
      const { resource } = await writer.create(message(i));
      committed.set(resource.id as string, performance.now());
      await new Promise((r) => setTimeout(r, 50));
    }
    const latencyOf = async (path: string) => {
      await waitForAll(path, [...committed.keys()]);
      return [...committed].map(([id, at]) => (receipts.get(`${path} ${id}`) ?? Number.NaN) - at).sort((a, b) => a - b);
    };
    const custodianLatencies = await latencyOf('/custodian');
    const partnerLatencies = await latencyOf('/partner');

    // 2. Drain rate: the burst written while no worker runs, then one worker drains it for one subscription.
    const drain = async (path: string, on: Subscription, off: Subscription) => {
      await setStatus(writer, off, 'off');
      await setStatus(writer, on, 'requested');
      await waitForActive(writer, on);
      await worker.close();
      const ids: string[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: WRITE_CONCURRENCY }, async () => {
          while (next < BURST_EVENTS) {
            next++;
            ids.push((await writer.create(message(next))).resource.id as string);
          }
        }),
      );
      const started = performance.now();
      worker = await start();
      await waitForAll(path, ids);
      return BURST_EVENTS / ((Math.max(...ids.map((id) => receipts.get(`${path} ${id}`) ?? Number.NaN)) - started) / 1000);
    };
    const custodianRate = await drain('/custodian', custodian, partner);
    const partnerRate = await drain('/partner', partner, custodian);

    // Raw baseline: the same signed body, POSTed straight to the receiver, one at a time.
    const sample = JSON.stringify({ resourceType: 'Bundle', type: 'history', entry: [{ resource: { resourceType: 'Parameters' } }, { fullUrl: 'x/raw' }] });
    const rawLatencies: number[] = [];
    const rawStart = performance.now();
    for (let i = 0; i < BURST_EVENTS; i++) {
      const t0 = performance.now();
      const ts = Math.floor(Date.now() / 1000);
      const signature = createHmac('sha256', SECRET).update(`${ts}.${sample}`).digest('hex');
      await fetch(`${base}/raw`, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json', 'X-CareCircle-Signature': `t=${ts},v1=${signature}` }, body: sample }).then((r) => r.arrayBuffer());
      rawLatencies.push(performance.now() - t0);
    }
    const raw = BURST_EVENTS / ((performance.now() - rawStart) / 1000);
    rawLatencies.sort((a, b) => a - b);

    const row = (measure: string, ours: number, baseline: number, digits = 1) =>
      `| ${measure} | ${ours.toFixed(digits)} | ${baseline.toFixed(digits === 0 ? 0 : 2)} | ${(ours / baseline).toFixed(digits === 0 ? 3 : 1)}${digits === 0 ? '' : 'x'} |\n`;
    process.stdout.write(`\nNotifications, one worker, receiver on loopback (${bodies} POSTs received in all)\n\n`);
    process.stdout.write('| measure | CareCircle | raw signed POST | CareCircle / raw |\n|---|---|---|---|\n');
    process.stdout.write(row('latency p50 (ms), custodian', percentile(custodianLatencies, 50), percentile(rawLatencies, 50)));
    process.stdout.write(row('latency p99 (ms), custodian', percentile(custodianLatencies, 99), percentile(rawLatencies, 99)));
    process.stdout.write(row('latency p50 (ms), partner under consent', percentile(partnerLatencies, 50), percentile(rawLatencies, 50)));
    process.stdout.write(row('latency p99 (ms), partner under consent', percentile(partnerLatencies, 99), percentile(rawLatencies, 99)));
    process.stdout.write(row(`deliveries/s draining ${BURST_EVENTS}, custodian`, custodianRate, raw, 0));
    process.stdout.write(row(`deliveries/s draining ${BURST_EVENTS}, partner under consent`, partnerRate, raw, 0));
    process.stdout.write(
      `\nLatency: commit (create returned) to first receipt, over ${LATENCY_EVENTS} changes at ~20/s, both subscribers at once; it` +
        ` includes the relay's wake-up on commit (LISTEN/NOTIFY). Drain: ${BURST_EVENTS} changes written (${WRITE_CONCURRENCY} at a time) while no worker` +
        ' ran, then worker start to last receipt, one subscription receiving. Raw: one signed POST at a time.\n',
    );
  } finally {
    await worker.close();
    await t.close();
    receiver.close();
  }
}

type Writer = ReturnType<typeof createServerRepository>;

async function subscribe(t: TestApp, token: string, writer: Writer, endpoint: string): Promise<Subscription> {
  const subscription = (await fhirClient(t, token).post('Subscription', buildBackportSubscription({ topic: TOPIC, endpoint, secret: SECRET }))).body as Subscription;
  await waitForActive(writer, subscription);
  return subscription;
}

async function waitForActive(writer: Writer, subscription: Subscription): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await writer.read<Subscription>('Subscription', subscription.id as string)).status === 'active') {
      return;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('subscription not activated');
}

/** Sets a subscription's status as its owner would (off, or requested again). */
async function setStatus(writer: Writer, subscription: Subscription, status: 'off' | 'requested'): Promise<void> {
  const current = await writer.read<Subscription>('Subscription', subscription.id as string);
  await writer.update({ ...current, status });
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
