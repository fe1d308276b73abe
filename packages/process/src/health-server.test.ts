import { createLogger } from '@carecircle/log';
import type { Registry } from 'prom-client';
import { runHealthChecks, startHealthServer } from './health-server';
import { createMetricsRegistry, METRIC_PREFIX } from './metrics-registry';
import { startMetricsServer } from './metrics-server';

describe('runHealthChecks', () => {
  test('ok when every check resolves to anything but false', async () => {
    expect(await runHealthChecks({ a: () => undefined, b: async () => 'up' })).toEqual({ status: 'ok', checks: { a: 'ok', b: 'ok' } });
  });

  test('a check that throws, rejects, answers false or outlasts the limit fails, and only that one', async () => {
    const report = await runHealthChecks(
      {
        fine: () => true,
        threw: () => {
          throw new Error('down');
        },
        rejected: () => Promise.reject(new Error('down')),
        refused: () => false,
        slow: () => new Promise((resolve) => setTimeout(resolve, 1000)),
      },
      50,
    );
    expect(report).toEqual({ status: 'unavailable', checks: { fine: 'ok', threw: 'fail', rejected: 'fail', refused: 'fail', slow: 'fail' } });
  });
});

describe('the probe and metrics servers', () => {
  test('/healthz and /readyz answer the reports of their own checks, with 200 or 503', async () => {
    const server = await startHealthServer({ port: 0, host: '127.0.0.1', liveness: { self: () => true }, readiness: { db: () => false }, logger: createLogger('silent') });
    try {
      const live = await fetch(`http://127.0.0.1:${server.port}/healthz`);
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ status: 'ok', checks: { self: 'ok' } });
      const ready = await fetch(`http://127.0.0.1:${server.port}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({ status: 'unavailable', checks: { db: 'fail' } });
    } finally {
      await server.close();
    }
  });

  test("a metrics server answers the registry's metrics, prefixed, without a token", async () => {
    const registry: Registry = createMetricsRegistry();
    const server = await startMetricsServer({ port: 0, registry, logger: createLogger('silent') });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain(`${METRIC_PREFIX}process_cpu_seconds_total`);
    } finally {
      await server.close();
    }
  });
});
