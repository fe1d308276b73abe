import { Writable } from 'node:stream';
import { createLogger, requestLineWriter } from './index';

function capture(): { lines: () => Record<string, unknown>[]; text: () => string; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const text = () => chunks.join('');
  return {
    stream,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  test('writes JSON lines with level label, ISO time, service and bindings', () => {
    const out = capture();
    createLogger('info', { role: 'api' }, out.stream).info({ requestId: 'r1' }, 'request');
    const [line] = out.lines();
    expect(line).toMatchObject({ level: 'info', service: 'carecircle', role: 'api', requestId: 'r1', msg: 'request' });
    expect(String(line?.time)).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  test('honours the level', () => {
    const out = capture();
    const logger = createLogger('warn', {}, out.stream);
    logger.info('not written');
    logger.warn('written');
    expect(out.lines().map((l) => l.msg)).toEqual(['written']);
  });

  test.each<[string, Record<string, unknown>]>([
    ['an Authorization header value', { authorization: 'Bearer SECRET-1' }],
    ['a request\'s Authorization header', { req: { headers: { authorization: 'Bearer SECRET-1', accept: 'x' } } }],
    ['headers one level down', { request: { headers: { authorization: 'Bearer SECRET-1' } } }],
    ['a password', { password: 'SECRET-1' }],
    ['a nested password', { user: { password: 'SECRET-1' } }],
    ['an access token', { access_token: 'SECRET-1' }],
    ['a refresh token in a response', { response: { refresh_token: 'SECRET-1' } }],
    ['a client assertion in a form', { form: { client_assertion: 'SECRET-1' } }],
    ['a PKCE verifier', { body: { code_verifier: 'SECRET-1' } }],
    ['an authorization code', { code: 'SECRET-1' }],
    ['an authorization code in a query', { query: { code: 'SECRET-1' } }],
    ['a token', { nested: { token: 'SECRET-1' } }],
    ['a subscription secret', { subscription: { secret: 'SECRET-1' } }],
  ])('masks %s', (_name, fields) => {
    const out = capture();
    createLogger('info', {}, out.stream).info(fields, 'oops');
    expect(out.text()).not.toContain('SECRET-1');
    expect(out.text()).toContain('[redacted]');
  });

  test('keeps ids, statuses and error codes', () => {
    const out = capture();
    createLogger('info', {}, out.stream).info({ requestId: 'r1', status: 401, err: { code: 'ECONNREFUSED' }, clientId: 'c1' }, 'x');
    expect(out.lines()[0]).toMatchObject({ requestId: 'r1', status: 401, err: { code: 'ECONNREFUSED' }, clientId: 'c1' });
  });
});

describe('requestLineWriter', () => {
  test('writes the access line through the logger: its level, bindings and destination', () => {
    const out = capture();
    const writeLine = requestLineWriter(createLogger('info', { role: 'api' }, out.stream));
    writeLine({ requestId: 'r1', method: 'GET', path: '/fhir/R4/Patient/:id', interaction: 'GET Patient', status: 200, caller: 'system', ms: 1.5 });
    expect(out.lines()).toEqual([
      expect.objectContaining({ level: 'info', service: 'carecircle', role: 'api', requestId: 'r1', path: '/fhir/R4/Patient/:id', status: 200, msg: 'request' }),
    ]);
  });

  test('writes nothing below the logger\'s level', () => {
    const out = capture();
    requestLineWriter(createLogger('warn', {}, out.stream))({ requestId: 'r1', method: 'GET', path: '/', interaction: undefined, status: 200, ms: 1 });
    expect(out.text()).toBe('');
  });
});
