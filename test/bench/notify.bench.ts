/**
 * Notification delivery with one worker: latency from commit to receipt (p50/p99) and deliveries per second, beside a
 * raw baseline measured in the same run — the same signed body POSTed straight to the same receiver over loopback,
 * with the same concurrency — so the ratio says what the outbox, BullMQ, matching, the consent gate and signing cost.
 *
 *   npm run bench   (needs PostgreSQL and Redis like the tests)
 */
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServerRepository } from '@carecircle/access';
import { createTestApp, fhirClient, registerSystemClient } from '@carecircle/api/testing';
import { createLogger } from '@carecircle/log';
import { buildBackportSubscription } from '@carecircle/notify';
import { buildOrganization, buildPatient } from '@carecircle/testing';
import { startWorker } from '@carecircle/worker';
import type { Bundle, Communication, Patient, Subscription } from '@medplum/fhirtypes';

const LATENCY_EVENTS = 200;
const BURST_EVENTS = 500;
const SECRET = 'benchmark-secret-benchmark-secret-0123';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const receipts = new Map<string, number>();
  let bodies = 0;
  const receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      bodies++;
      const bundle = JSON.parse(body) as Bundle;
      for (const entry of bundle.entry?.slice(1) ?? []) {
        const id = entry.fullUrl?.split('/').pop();
        if (id && !receipts.has(id)) {
          receipts.set(id, performance.now());
        }
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  const t = await createTestApp({ NOTIFY_ALLOW_LOOPBACK_HTTP: 'true', LOG_LEVEL: 'silent' });
  const worker = await startWorker({ config: t.services.config, db: t.services.db, logger: createLogger('silent') });
  try {
    const admin = fhirClient(t, t.adminToken);
    const practice = `Organization/${(await admin.post('Organization', buildOrganization())).body.id}`;
    const token = await (await registerSystemClient(t, practice, 'system/*.cruds')).token();
    const client = (await fhirClient(t, token).post('Patient', buildPatient())).body as Patient;
    const subscription = (
      await fhirClient(t, token).post(
        'Subscription',
        buildBackportSubscription({ topic: 'https://carecircle.dev/fhir/SubscriptionTopic/communication', endpoint, secret: SECRET }),
      )
    ).body as Subscription;
    const writer = createServerRepository(t.services.db, { allowLoopbackHttp: true });
    for (let i = 0; i < 200 && (await writer.read<Subscription>('Subscription', subscription.id as string)).status !== 'active'; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    const message = (i: number): Communication => ({
      resourceType: 'Communication',
      status: 'completed',
      subject: { reference: `Patient/${client.id}` },
      sender: { reference: practice },
      payload: [{ contentString: `Homework check-in ${i}` }],
    });
    const waitForAll = async (ids: string[]) => {
      const deadline = Date.now() + 120_000;
      while (ids.some((id) => !receipts.has(id)) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
    };

    // 1. Latency: changes at a steady ~20 per second, commit (create resolved) to first receipt.
    const committed = new Map<string, number>();
    for (let i = 0; i < LATENCY_EVENTS; i++) {
      const { resource } = await writer.create(message(i));
      committed.set(resource.id as string, performance.now());
      await new Promise((r) => setTimeout(r, 50));
    }
    await waitForAll([...committed.keys()]);
    const latencies = [...committed].map(([id, at]) => (receipts.get(id) ?? Number.NaN) - at).sort((a, b) => a - b);

    // 2. Throughput: a burst, first commit to last receipt.
    const burstIds: string[] = [];
    const burstStart = performance.now();
    for (let i = 0; i < BURST_EVENTS; i++) {
      burstIds.push((await writer.create(message(i))).resource.id as string);
    }
    await waitForAll(burstIds);
    const burstSeconds = (Math.max(...burstIds.map((id) => receipts.get(id) ?? Number.NaN)) - burstStart) / 1000;

    // Raw baseline: the same signed body, POSTed straight to the receiver, one at a time (delivery is ordered per
    // subscription, so one at a time is the like-for-like baseline).
    const sample = JSON.stringify({ resourceType: 'Bundle', type: 'history', entry: [{ resource: { resourceType: 'Parameters' } }, { fullUrl: 'x/raw' }] });
    const rawLatencies: number[] = [];
    const rawStart = performance.now();
    for (let i = 0; i < BURST_EVENTS; i++) {
      const t0 = performance.now();
      const ts = Math.floor(Date.now() / 1000);
      const signature = createHmac('sha256', SECRET).update(`${ts}.${sample}`).digest('hex');
      await fetch(endpoint, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json', 'X-CareCircle-Signature': `t=${ts},v1=${signature}` }, body: sample }).then((r) => r.arrayBuffer());
      rawLatencies.push(performance.now() - t0);
    }
    const rawSeconds = (performance.now() - rawStart) / 1000;
    rawLatencies.sort((a, b) => a - b);

    const ours = BURST_EVENTS / burstSeconds;
    const raw = BURST_EVENTS / rawSeconds;
    process.stdout.write(`\nNotifications, one worker, one subscription, receiver on loopback (${bodies} POSTs received in all)\n\n`);
    process.stdout.write('| measure | CareCircle | raw signed POST | CareCircle / raw |\n|---|---|---|---|\n');
    process.stdout.write(`| latency p50 (ms) | ${percentile(latencies, 50).toFixed(1)} | ${percentile(rawLatencies, 50).toFixed(2)} | ${(percentile(latencies, 50) / percentile(rawLatencies, 50)).toFixed(1)}x |\n`);
    process.stdout.write(`| latency p99 (ms) | ${percentile(latencies, 99).toFixed(1)} | ${percentile(rawLatencies, 99).toFixed(2)} | ${(percentile(latencies, 99) / percentile(rawLatencies, 99)).toFixed(1)}x |\n`);
    process.stdout.write(`| deliveries/s (burst of ${BURST_EVENTS}) | ${ours.toFixed(0)} | ${raw.toFixed(0)} | ${(ours / raw).toFixed(3)} |\n`);
    process.stdout.write(`\nLatency is commit (create returned) to first receipt, over ${LATENCY_EVENTS} changes at ~20/s; it includes the outbox relay's 100 ms poll.\n`);
  } finally {
    await worker.close();
    await t.close();
    receiver.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
