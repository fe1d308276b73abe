/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * A fault on a page answers the accessible 500 page and is logged by class and stack only: the message of an error
 * can quote data (a JSON parse error quotes its input), and logs never carry PHI.
 */
import express from 'express';
import request from 'supertest';
import { createLogger } from '@carecircle/log';
import { errorPages } from './error-pages';
import type { PageDeps } from './page-context';

test('a fault answers 500 with the generic page and logs no message', async () => {
  const lines: string[] = [];
  const logger = createLogger('info', {}, { write: (line: string) => void lines.push(line) });
  const deps = { apiUrl: () => 'http://127.0.0.1:1', leaveUrl: 'https://example.org/', oauth: undefined } as unknown as PageDeps;
  const app = express();
  app.get('/boom', () => {
    throw new SyntaxError('Unexpected token < in JSON: "Alex Rivera, trauma history" is not valid JSON');
  });
  app.use(errorPages(deps, logger));
  const res = await request(app).get('/boom').expect(500);
  expect(res.text).toContain('Something went wrong');
  expect(res.text).not.toContain('Alex');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain('SyntaxError');
  expect(lines[0]).not.toContain('Alex');
});
