import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './index';

describe('loadConfig', () => {
  test('applies documented defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8080);
    expect(config.baseUrl).toBe('http://localhost:8080');
    expect(config.fhirBaseUrl).toBe('http://localhost:8080/fhir/R4');
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.databaseStatementTimeoutMs).toBe(30_000);
    expect(config.adminTokenGenerated).toBe(true);
    expect(config.adminToken.length).toBeGreaterThanOrEqual(32);
  });

  test('keeps PGlite data in .carecircle where npm was run, not in a package folder', () => {
    expect(loadConfig({ INIT_CWD: '/srv/carecircle' }).dataDir).toBe('/srv/carecircle/.carecircle');
    expect(loadConfig({ INIT_CWD: '/srv/carecircle', DATA_DIR: '/data/cc' }).dataDir).toBe('/data/cc');
  });

  test('derives the FHIR base from BASE_URL without a trailing slash', () => {
    const config = loadConfig({ BASE_URL: 'https://api.example.org/', ADMIN_TOKEN: 'x'.repeat(40) });
    expect(config.fhirBaseUrl).toBe('https://api.example.org/fhir/R4');
    expect(config.adminTokenGenerated).toBe(false);
  });

  test('derives the page token key from PAGE_TOKEN_SECRET, else ADMIN_TOKEN: the same on every replica', () => {
    const key = (env: Record<string, string>) => Buffer.from(loadConfig(env).pageTokenKey).toString('hex');
    const admin = { ADMIN_TOKEN: 'a'.repeat(40) };
    expect(key(admin)).toBe(key(admin));
    expect(key(admin)).toHaveLength(64);
    expect(key(admin)).not.toBe(key({ ADMIN_TOKEN: 'b'.repeat(40) }));
    expect(key({ ...admin, PAGE_TOKEN_SECRET: 's'.repeat(32) })).toBe(key({ ADMIN_TOKEN: 'b'.repeat(40), PAGE_TOKEN_SECRET: 's'.repeat(32) }));
    expect(key({ ...admin, PAGE_TOKEN_SECRET: 's'.repeat(32) })).not.toBe(key(admin));
    expect(() => loadConfig({ PAGE_TOKEN_SECRET: 'short' })).toThrow(/PAGE_TOKEN_SECRET/);
  });

  test('DATABASE_STATEMENT_TIMEOUT_MS: 0 for none, else 1 s to an hour', () => {
    expect(loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '0' }).databaseStatementTimeoutMs).toBe(0);
    expect(loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '15000' }).databaseStatementTimeoutMs).toBe(15_000);
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '50' })).toThrow(/DATABASE_STATEMENT_TIMEOUT_MS/);
    expect(() => loadConfig({ DATABASE_STATEMENT_TIMEOUT_MS: 'soon' })).toThrow(/DATABASE_STATEMENT_TIMEOUT_MS/);
  });

  test('WORKER_HEALTH_PORT: none unless set, 0 for any free port', () => {
    expect(loadConfig({}).workerHealthPort).toBeUndefined();
    expect(loadConfig({ WORKER_HEALTH_PORT: '8081' }).workerHealthPort).toBe(8081);
    expect(loadConfig({ WORKER_HEALTH_PORT: '0' }).workerHealthPort).toBe(0);
    expect(() => loadConfig({ WORKER_HEALTH_PORT: '70000' })).toThrow(/WORKER_HEALTH_PORT/);
    expect(() => loadConfig({ WORKER_HEALTH_PORT: 'health' })).toThrow(/WORKER_HEALTH_PORT/);
  });

  test('METRICS_PORT: none unless set, 0 for any free port', () => {
    expect(loadConfig({}).metricsPort).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: '9464' }).metricsPort).toBe(9464);
    expect(loadConfig({ METRICS_PORT: '0' }).metricsPort).toBe(0);
    expect(() => loadConfig({ METRICS_PORT: '65536' })).toThrow(/METRICS_PORT/);
    expect(() => loadConfig({ METRICS_PORT: 'prometheus' })).toThrow(/METRICS_PORT/);
  });

  test('names every invalid variable', () => {
    expect(() => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x' })).toThrow(/PORT.*DATABASE_URL/);
  });

  test('requires an admin token in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/ADMIN_TOKEN/);
  });

  test('webhooks to loopback: allowed by default in development only; the variable decides when set', () => {
    expect(loadConfig({}).notify.allowLoopbackHttp).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test' }).notify.allowLoopbackHttp).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', ADMIN_TOKEN: 'x'.repeat(40) }).notify.allowLoopbackHttp).toBe(false);
    expect(loadConfig({ NOTIFY_ALLOW_LOOPBACK_HTTP: 'false' }).notify.allowLoopbackHttp).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test', NOTIFY_ALLOW_LOOPBACK_HTTP: 'true' }).notify.allowLoopbackHttp).toBe(true);
  });

  test('the development admin token is kept in the data directory (0600) when asked, and used again', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'carecircle-config-'));
    try {
      const keep = { keepDevelopmentAdminToken: true };
      const first = loadConfig({ DATA_DIR: dataDir }, keep);
      const file = join(dataDir, 'admin-token');
      expect(readFileSync(file, 'utf8').trim()).toBe(first.adminToken);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(loadConfig({ DATA_DIR: dataDir }, keep).adminToken).toBe(first.adminToken);
      // Not asked, not in development, or ADMIN_TOKEN set: the file is neither read nor written.
      expect(loadConfig({ DATA_DIR: dataDir }).adminToken).not.toBe(first.adminToken);
      expect(loadConfig({ DATA_DIR: dataDir, NODE_ENV: 'test' }, keep).adminToken).not.toBe(first.adminToken);
      expect(loadConfig({ DATA_DIR: dataDir, ADMIN_TOKEN: 'y'.repeat(40) }, keep).adminToken).toBe('y'.repeat(40));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
  test('referral deadlines: documented defaults, per-priority business hours, a bad value named', () => {
    expect(loadConfig({}).referralDeadlines).toEqual({
      timeZone: 'UTC',
      acknowledgeWithin: { routine: 16, urgent: 8, asap: 4, stat: 1 },
      completeWithin: { routine: 80, urgent: 40, asap: 16, stat: 8 },
      remindBefore: 4,
      expireAfter: 16,
    });
    const set = loadConfig({ REFERRAL_TIME_ZONE: 'Europe/Berlin', REFERRAL_ACK_BUSINESS_HOURS: 'routine=24, stat=0.5', REFERRAL_EXPIRE_AFTER_BUSINESS_HOURS: '8' });
    expect(set.referralDeadlines).toMatchObject({ timeZone: 'Europe/Berlin', acknowledgeWithin: { routine: 24, urgent: 8, asap: 4, stat: 0.5 }, expireAfter: 8 });
    expect(() => loadConfig({ REFERRAL_TIME_ZONE: 'Mars/Olympus' })).toThrow(/REFERRAL_TIME_ZONE/);
    expect(() => loadConfig({ REFERRAL_ACK_BUSINESS_HOURS: 'routine=0' })).toThrow(/REFERRAL_ACK_BUSINESS_HOURS/);
    expect(() => loadConfig({ REFERRAL_COMPLETE_BUSINESS_HOURS: 'soon=3' })).toThrow(/REFERRAL_COMPLETE_BUSINESS_HOURS/);
  });
});
