/**
 * A server fault inside one batch entry: the entries before it stay committed, so the batch still answers, with a 500
 * outcome for that entry alone, logged with the request id (class and stack, nothing of the request). A transaction
 * rolls back instead, and the fault reaches the error handler.
 */
import { Writable } from 'node:stream';
import { runWithRequestContext } from '@carecircle/auth';
import { createLogger } from '@carecircle/log';
import type { Repository } from '@carecircle/store';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { processBundle } from './bundle-processor';

const BASE = 'https://carecircle.example/fhir/R4';

/** A repository whose creates succeed and whose searches fail the way a bug would (not an OperationOutcomeError). */
function faultyRepository(created: Resource[]): Repository {
  const repository = {
    async create(resource: Resource) {
      const stored = { ...resource, id: `id-${created.length + 1}`, meta: { versionId: '1', lastUpdated: '2025-01-01T00:00:00Z' } };
      created.push(stored);
      return { resource: stored, outcome: 'created' as const };
    },
    search() {
      throw new TypeError("Cannot read properties of undefined (reading 'secret-patient-name')");
    },
    async transaction<T>(fn: (repo: Repository) => Promise<T>): Promise<T> {
      return fn(repository as unknown as Repository);
    },
  };
  return repository as unknown as Repository;
}

function logSink(): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, logger: createLogger('info', {}, sink) };
}

const entries = (type: 'batch' | 'transaction'): Bundle => ({
  resourceType: 'Bundle',
  type,
  entry: [
    { request: { method: 'POST', url: 'Basic' }, resource: { resourceType: 'Basic', code: { text: 'note' } } },
    { request: { method: 'GET', url: 'Basic?code=x' } },
  ],
});

test('a batch answers every entry: the create 201, the faulty search a 500 outcome, logged with the request id', async () => {
  const created: Resource[] = [];
  const repository = faultyRepository(created);
  const { lines, logger } = logSink();
  const result = await runWithRequestContext({ requestId: 'req-batch-1', caller: { kind: 'admin' }, repository }, () =>
    processBundle(entries('batch'), repository, BASE, {}, logger),
  );
  expect(result.type).toBe('batch-response');
  expect(result.entry?.map((e) => e.response?.status)).toEqual(['201 Created', '500']);
  expect(result.entry?.[1]?.response?.outcome?.issue?.[0]).toMatchObject({ code: 'exception', expression: ['Bundle.entry[1]'] });
  expect(created).toHaveLength(1);

  const logged = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(logged).toEqual([expect.objectContaining({ requestId: 'req-batch-1', batchEntry: 1, msg: 'unhandled error' })]);
  expect(lines.join('\n')).not.toContain('secret-patient-name');
  expect(JSON.stringify(result)).not.toContain('secret-patient-name');
});

test('a transaction rolls back: the fault is thrown for the error handler, not answered as an entry', async () => {
  const repository = faultyRepository([]);
  const { logger } = logSink();
  await expect(processBundle(entries('transaction'), repository, BASE, {}, logger)).rejects.toThrow(TypeError);
});
