/**
 * What the notification suites run against: the API in-process on real PostgreSQL and Redis, the real worker (quick
 * retries), and a real webhook receiver on loopback; plus the step every such test starts with, a Subscription
 * created over HTTP and waited for until its handshake made it active.
 */
import { createTestApp, fhirClient, type TestApp } from '@carecircle/api/testing';
import { createLogger } from '@carecircle/log';
import { buildBackportSubscription, type SubscriptionFacts } from '@carecircle/notify';
import { startWorker, type RunningWorker } from '@carecircle/worker';
import type { Subscription } from '@medplum/fhirtypes';
import { startNotificationReceiver, type NotificationReceiver } from './notification-receiver';

/** The signing secret every test subscription registers (the receiver verifies with it). */
export const SUBSCRIPTION_SECRET = 'a-partner-chosen-secret-of-at-least-32-chars';

export interface NotifyStack {
  t: TestApp;
  worker: RunningWorker;
  receiver: NotificationReceiver;
  /** Every log line the worker wrote so far (JSON strings), to follow a request's id through the queue to the delivery. */
  workerLogLines: string[];
  /** Creates a Subscription as `token` to `topic`, delivered to receiver path `path`, and waits until it is active. */
  subscribe(token: string, path: string, topic: string, extra?: Partial<SubscriptionFacts>): Promise<Subscription>;
  close(): Promise<void>;
}

export async function startNotifyStack(): Promise<NotifyStack> {
  const receiver = await startNotificationReceiver();
  const t = await createTestApp({ NOTIFY_ALLOW_LOOPBACK_HTTP: 'true' });
  const workerLogLines: string[] = [];
  const worker = await startWorker({
    config: t.services.config,
    db: t.services.db,
    logger: createLogger('info', { role: 'worker' }, { write: (line: string) => void workerLogLines.push(line) }),
    // One registry for API and worker, as ROLE=all runs them: the app's /metrics shows the worker's figures too.
    metrics: t.services.metrics,
    notify: { allowLoopbackHttp: true, relayIntervalMs: 50, retryPolicy: { maxAttempts: 8, baseDelayMs: 200, maxDelayMs: 1000, maxRetryAfterMs: 1000, errorAfterFailures: 3 } },
  });
  return {
    t,
    worker,
    receiver,
    workerLogLines,
    async subscribe(token, path, topic, extra = {}) {
      const res = await fhirClient(t, token).post(
        'Subscription',
        buildBackportSubscription({ topic, endpoint: receiver.url(path), secret: SUBSCRIPTION_SECRET, ...extra }),
      );
      if (res.status !== 201) {
        throw new Error(`creating the subscription answered ${res.status}: ${JSON.stringify(res.body)}`);
      }
      const id = (res.body as Subscription).id;
      for (let i = 0; i < 400; i++) {
        const current = (await fhirClient(t, token).get(`Subscription/${id}`)).body as Subscription;
        if (current.status === 'active') {
          return current;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('the subscription did not become active');
    },
    async close() {
      await worker.close();
      await t.close();
      await receiver.close();
    },
  };
}
