import { loadConfig } from '@carecircle/config';
import { createLogger } from '@carecircle/log';
import { openDatabase } from '@carecircle/store';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker } from './worker';

describe('worker lifecycle', () => {
  test('starts against real Redis and stops cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cc-worker-'));
    const db = await openDatabase({ dataDir: dir });
    const worker = await startWorker({ config: loadConfig({}), db, logger: createLogger('silent') });
    await worker.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('refuses to start when Redis does not answer, saying how to start it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cc-worker-'));
    const db = await openDatabase({ dataDir: dir });
    await expect(
      startWorker({ config: loadConfig({ REDIS_URL: 'redis://127.0.0.1:1' }), db, logger: createLogger('silent') }),
    ).rejects.toThrow(/redis-server/);
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
