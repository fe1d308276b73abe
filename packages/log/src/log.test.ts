import { Writable } from 'node:stream';
import pino from 'pino';
import { createLogger } from './index';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  test('writes JSON lines with level, time and service', () => {
    const { lines, stream } = capture();
    const logger = pino(createLogger('info').levels ? { level: 'info' } : {}, stream);
    logger.info({ requestId: 'r1' }, 'request');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ requestId: 'r1', msg: 'request' });
  });

  test('masks credential-bearing fields if one ever reaches a log call', () => {
    const logger = createLogger('info');
    const { lines, stream } = capture();
    const child = pino({ ...logger.bindings(), redact: { paths: ['authorization', 'password', 'token', '*.token'], censor: '[redacted]' } }, stream);
    child.info({ authorization: 'Bearer abc', password: 'hunter2', nested: { token: 'xyz' } }, 'oops');
    const text = lines.join('');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('Bearer abc');
    expect(text).not.toContain('xyz');
  });
});
