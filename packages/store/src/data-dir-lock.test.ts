import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirectoryError, lockDataDir } from './data-dir-lock';

describe('lockDataDir', () => {
  const made: string[] = [];
  const scratch = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'cc-lock-'));
    made.push(dir);
    return dir;
  };
  afterAll(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  test('one holder at a time; released, the directory can be locked again', async () => {
    const dir = join(scratch(), 'data');
    const release = await lockDataDir(dir);
    await expect(lockDataDir(dir)).rejects.toMatchObject({ name: 'DataDirectoryError', reason: 'in-use', dataDir: dir });
    await release();
    const again = await lockDataDir(dir);
    await again();
  });

  test('a directory that cannot be created is not-writable, with the code', async () => {
    const file = join(scratch(), 'a-file');
    writeFileSync(file, '');
    const refusal = lockDataDir(join(file, 'data'));
    await expect(refusal).rejects.toBeInstanceOf(DataDirectoryError);
    await expect(refusal).rejects.toMatchObject({ reason: 'not-writable', code: 'ENOTDIR' });
  });
});
