import { Writable } from 'node:stream';
import { createLogger } from '@carecircle/log';
import { NOTIFY_QUEUES } from '@carecircle/notify';
import { currentJobContext, jobContextOf, jobLogger, runInJobContext } from './job-context';

test("a job's context is rebuilt from the request id its payload carries, and is current while it runs", async () => {
  const context = jobContextOf(NOTIFY_QUEUES.delivery, { id: 'sub-1_3', data: { subscriptionId: 'sub-1', eventNumber: 3, requestId: 'req-0123456789' } });
  expect(context).toEqual({ queue: 'subscription-delivery', jobId: 'sub-1_3', requestId: 'req-0123456789' });
  expect(currentJobContext()).toBeUndefined();
  const seen = await runInJobContext(context, async () => {
    await new Promise((r) => setTimeout(r, 1));
    return currentJobContext();
  });
  expect(seen).toBe(context);
  expect(currentJobContext()).toBeUndefined();
});

test('a payload without a request id, or with one that is no id, rebuilds a context without one', () => {
  expect(jobContextOf(NOTIFY_QUEUES.heartbeat, { id: 'h', data: { subscriptionId: 'sub-1' } }).requestId).toBeUndefined();
  expect(jobContextOf(NOTIFY_QUEUES.outboxEvents, { id: 'x', data: { requestId: 'Jane Doe <jane@example.org>' } }).requestId).toBeUndefined();
});

test("the job's logger names the request on every line; without one it is the worker's logger unchanged", () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger('info', {}, sink);
  jobLogger(logger, { queue: NOTIFY_QUEUES.handshake, jobId: 'j', requestId: 'req-0123456789' }).info({ subscriptionId: 's' }, 'subscription handshake');
  expect(jobLogger(logger, { queue: NOTIFY_QUEUES.heartbeat, jobId: 'h', requestId: undefined })).toBe(logger);
  expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ requestId: 'req-0123456789', subscriptionId: 's', msg: 'subscription handshake' });
});
