/**
 * What it costs to keep references and second clients within consent (issue 17): a partner's search of 100 resources
 * (1) whose references all point at resources hidden from it, each withheld on the way out (one statement per
 * response decides every target), beside 100 without references; (2) that each name a second consenting client
 * outside their compartment (focus), so the second client's consent is checked per row too, beside 100 that name no
 * one else. Latency of one request at a time (median and p95 of many), the cases taking turns run by run so that a
 * busy machine slows them alike; the difference is the added work.
 *
 *   cd test && npx tsx bench/references.bench.ts   (needs PostgreSQL and Redis like the tests)
 */
import type { AddressInfo } from 'node:net';
import { buildSharingConsent, SHARE_CATEGORY_SYSTEM, type ShareCategory } from '@carecircle/consent';
import { createTestApp, registerSystemClient } from '@carecircle/api/testing';
import { buildOrganization, buildPatient } from '@carecircle/testing';

const RUNS = 60;

/** Median and 95th percentile of each op's `runs` runs (ms), the ops taking turns one request at a time. */
async function latencies(ops: ReadonlyArray<() => Promise<void>>, runs = RUNS): Promise<Array<{ median: number; p95: number }>> {
  const times = ops.map((): number[] => []);
  for (let i = 0; i < runs; i++) {
    for (const [index, op] of ops.entries()) {
      const t0 = process.hrtime.bigint();
      await op();
      times[index]?.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  return times.map((list) => {
    list.sort((a, b) => a - b);
    return { median: list[Math.floor(runs / 2)] as number, p95: list[Math.floor(runs * 0.95)] as number };
  });
}

async function main(): Promise<void> {
  const t = await createTestApp({ LOG_LEVEL: 'silent' });
  const server = t.app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir/R4`;
  try {
    const call = async (token: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${base}/${path}`, {
        method,
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/fhir+json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json().catch(() => undefined)) as { id?: string; entry?: unknown[] } & Record<string, unknown> };
    };
    const admin = t.adminToken;
    const practice = `Organization/${(await call(admin, 'POST', 'Organization', buildOrganization({ name: 'Practice' }))).body.id}`;
    const partner = `Organization/${(await call(admin, 'POST', 'Organization', buildOrganization({ name: 'Partner' }))).body.id}`;
    const practiceSystem = await registerSystemClient(t, practice, 'system/*.cruds');
    const partnerSystem = await registerSystemClient(t, partner, 'system/*.rs');
    const practiceToken = await practiceSystem.token();
    const tag = (code: string) => ({ tag: [{ system: SHARE_CATEGORY_SYSTEM, code }] });
    const newClient = async (categories: ShareCategory[]) => {
      const client = `Patient/${(await call(practiceToken, 'POST', 'Patient', buildPatient())).body.id}`;
      const consent = { ...buildSharingConsent({ patient: client, custodian: practice, recipients: [partner], categories }), sourceAttachment: { contentType: 'application/pdf', data: 'JVBERi0=' } };
      if ((await call(practiceToken, 'POST', 'Consent', consent)).status !== 201) {
        throw new Error('consent refused');
      }
      return client;
    };
    const withHidden = await newClient(['care-plan', 'progress']);
    const plain = await newClient(['care-plan', 'progress']);
    const second = await newClient(['care-plan', 'progress']);
    const naming = await newClient(['care-plan', 'progress']);
    for (let i = 0; i < 100; i++) {
      const trauma = (await call(practiceToken, 'POST', 'Condition', { resourceType: 'Condition', meta: tag('trauma-history'), code: { text: 'x' }, subject: { reference: withHidden } })).body;
      const plan = (subject: string, supportingInfo?: unknown) => ({ resourceType: 'CarePlan', status: 'active', intent: 'plan', subject: { reference: subject }, ...(supportingInfo ? { supportingInfo } : {}) });
      await call(practiceToken, 'POST', 'CarePlan', plan(withHidden, [{ reference: `Condition/${trauma.id}`, display: 'hidden' }]));
      await call(practiceToken, 'POST', 'CarePlan', plan(plain));
      const observation = (subject: string, focus?: string) => ({ resourceType: 'Observation', meta: tag('progress'), status: 'final', code: { text: 'x' }, subject: { reference: subject }, ...(focus ? { focus: [{ reference: focus }] } : {}) });
      await call(practiceToken, 'POST', 'Observation', observation(naming, second));
      await call(practiceToken, 'POST', 'Observation', observation(plain));
    }
    const partnerToken = await partnerSystem.token();
    const cases: Array<[string, string]> = [
      ['CarePlans, none referencing anything', `CarePlan?subject=${plain}&_count=100`],
      ['CarePlans, each referencing a hidden Condition (withheld)', `CarePlan?subject=${withHidden}&_count=100`],
      ['Observations naming no one else', `Observation?subject=${plain}&_count=100`],
      ['Observations naming a second consenting client (focus)', `Observation?subject=${naming}&_count=100`],
    ];
    process.stdout.write(`\nA partner's search returning 100 resources, one request at a time (${RUNS} runs each)\n\n| search | median ms | p95 ms |\n|---|---|---|\n`);
    for (const [name, query] of cases) {
      const check = await call(partnerToken, 'GET', query);
      if (check.body.entry?.length !== 100) {
        throw new Error(`${name}: the partner sees ${check.body.entry?.length ?? 0} of 100`);
      }
    }
    const results = await latencies(cases.map(([, query]) => async () => void (await call(partnerToken, 'GET', query))));
    cases.forEach(([name], index) => {
      const { median, p95 } = results[index] as { median: number; p95: number };
      process.stdout.write(`| ${name} | ${median.toFixed(1)} | ${p95.toFixed(1)} |\n`);
    });
  } finally {
    server.close();
    await t.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
