import { createStatementNamer, isStalePreparedStatement } from './prepared-statements';

test('a statement text gets one name, the same for the same text and another for another text', () => {
  const namer = createStatementNamer();
  const read = namer.nameOf('SELECT content FROM resource_version WHERE id = $1');
  expect(read).toMatch(/^cc_[A-Za-z0-9_-]{24}$/);
  expect(namer.nameOf('SELECT content FROM resource_version WHERE id = $1')).toBe(read);
  expect(createStatementNamer().nameOf('SELECT content FROM resource_version WHERE id = $1')).toBe(read);
  expect(namer.nameOf('SELECT 1')).not.toBe(read);
});

test('past the limit new texts run unnamed, while those already named keep their names', () => {
  const namer = createStatementNamer(2);
  const a = namer.nameOf('SELECT $1::int');
  const b = namer.nameOf('SELECT $1::text');
  expect(a).toBeDefined();
  expect(b).toBeDefined();
  expect(namer.nameOf('SELECT $1::uuid')).toBeUndefined();
  expect(namer.nameOf('SELECT $1::int')).toBe(a);
});

test('a forgotten text runs unnamed from then on', () => {
  const namer = createStatementNamer();
  namer.nameOf('SELECT * FROM outbox');
  namer.forget('SELECT * FROM outbox');
  expect(namer.nameOf('SELECT * FROM outbox')).toBeUndefined();
});

test('only PostgreSQL\'s "cached plan must not change result type" counts as a stale prepared statement', () => {
  expect(isStalePreparedStatement(Object.assign(new Error('cached plan must not change result type'), { code: '0A000' }))).toBe(true);
  expect(isStalePreparedStatement(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false);
  expect(isStalePreparedStatement(undefined)).toBe(false);
});
