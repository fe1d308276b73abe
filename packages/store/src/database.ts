/**
 * The database handle: PostgreSQL through `pg` when a URL is configured, embedded PGlite otherwise. Both speak the same
 * SQL and the same migrations; everything above this file sees only {@link Database} and {@link Queryable}.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { databaseUnavailable, OperationOutcomeError, statementTimeout } from '@carecircle/fhir';
import pg from 'pg';
import { isConnectionLoss } from './connection-loss';
import { lockDataDir } from './data-dir-lock';
import { pgliteStatements } from './pglite-statements';
import { createStatementNamer, isStalePreparedStatement } from './prepared-statements';
import { raw, type Sql } from './sql';

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** Something that runs parameterised statements: the database itself or an open transaction. */
export interface Queryable {
  query<R = Record<string, unknown>>(statement: Sql): Promise<QueryResult<R>>;
}

/** An open transaction: parameterised statements, plus unparameterised scripts for migrations. */
export interface Transaction extends Queryable {
  exec(script: string): Promise<void>;
  /**
   * Runs `statement` as the transaction's last: nothing may run in the transaction after it (that throws). On
   * PostgreSQL, a READ COMMITTED transaction in which nothing ran before runs it on its own, without BEGIN or COMMIT:
   * one statement is atomic by itself, so the write costs one round trip instead of three.
   */
  queryLast<R = Record<string, unknown>>(statement: Sql): Promise<QueryResult<R>>;
}

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>, isolation?: IsolationLevel): Promise<T>;
  /** Runs a multi-statement script without parameters (migrations). */
  exec(script: string): Promise<void>;
  /**
   * Calls `onNotify` on every NOTIFY on `channel` (payloads are not passed on: ours carry none). On PostgreSQL the
   * listener holds one connection of its own and, when that connection drops, reconnects after a second and calls
   * `onNotify` once (notifications sent while it was gone are lost; `onLost`, when given, is called as soon as the
   * connection is found gone). Resolves once listening; `close()` stops.
   */
  listen(channel: ListenChannel, onNotify: () => void, onLost?: () => void): Promise<Listener>;
  /** How the connections are used at this moment (for metrics); see {@link PoolUse}. */
  poolUse(): PoolUse;
  close(): Promise<void>;
}

/**
 * Connection use at one moment. PostgreSQL: the `pg` pool's counts (LISTEN connections are not in the pool).
 * PGlite: its one connection, idle or busy, and the statements and transactions queued behind it.
 */
export interface PoolUse {
  /** Connections the pool may open. */
  readonly max: number;
  /** Connections open now, idle or checked out. */
  readonly total: number;
  readonly idle: number;
  /** Callers waiting for a connection. */
  readonly waiting: number;
}

/** The NOTIFY channels our migrations send on. */
export type ListenChannel = 'outbox' | 'token_holders';

export interface Listener {
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** `postgres://...`; absent means PGlite persisted under `dataDir`. */
  databaseUrl?: string | undefined;
  dataDir?: string;
  /** Pool size for PostgreSQL. */
  maxConnections?: number;
  /**
   * PostgreSQL only: the longest one statement of the pool may run (waits for locks included) before the server
   * cancels it with SQLSTATE 57014 (query_canceled); 0 or absent for no limit. PGlite runs in-process, without one.
   */
  statementTimeoutMs?: number;
}

/** Opens the configured database; call `close()` at shutdown. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    return openPostgres(options.databaseUrl, options.maxConnections ?? 10, options.statementTimeoutMs ?? 0);
  }
  return openPglite(options.dataDir ?? '.carecircle');
}

// int8 (COUNT, identities) as JS numbers: our counters stay far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number.parseInt(v, 10));

/**
 * Connection settings of every PostgreSQL client (pool and listener): a connect that gets no answer gives up after
 * 10 s (a server that is unreachable, not refusing, would otherwise hold the caller forever; a pool slot waited for as
 * long gives up too), and TCP keepalive notices a peer that vanished without closing (a failover behind a silent
 * network) instead of waiting on a dead socket.
 */
const CONNECTION_SETTINGS = { connectionTimeoutMillis: 10_000, keepAlive: true } as const;

function openPostgres(url: string, max: number, statementTimeoutMs: number): Database {
  // JIT off: access policies put one large condition per resource type into a statement (system history ORs them
  // all), whose estimated cost crosses jit_above_cost; compiling it takes tens of seconds for a query that runs in
  // milliseconds. Our statements are short OLTP queries that JIT never pays off for.
  // statement_timeout: no one request may hold a connection (and the locks and snapshot it keeps) for minutes.
  // plan_cache_mode=force_generic_plan: a prepared statement (prepared-statements.ts) is planned once per connection
  // and that plan reused. Left to choose, PostgreSQL kept re-planning the access policy's statements for every
  // execution (3-4 ms of database CPU each; the values are ids, organizations and instants, which the generic plan
  // serves alike) and the database CPU of a read fell from 0.6 to 0.25 ms, of a 5-hit search from 4 to 0.6 ms.
  const options = `-c jit=off -c plan_cache_mode=force_generic_plan -c statement_timeout=${Math.max(0, Math.trunc(statementTimeoutMs))}`;
  const pool = new pg.Pool({ connectionString: url, max, options, ...CONNECTION_SETTINGS });
  // A connection can be lost at any moment (pg_terminate_backend, a restart, a failover), and `pg` reports it as an
  // 'error' event on its client, which kills the process when nobody listens. The pool listens on idle clients only
  // (and replaces them); every client gets a listener of its own for as long as it lives, so a loss while it is checked
  // out (inside a transaction, between two statements) only fails the statement in flight or the next one.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const statements = createStatementNamer();
  const run = async <R>(client: pg.Pool | pg.PoolClient, statement: Sql): Promise<QueryResult<R>> => {
    const { text, values } = statement.render();
    const name = statements.nameOf(text);
    try {
      const result = await client.query<pg.QueryResultRow>(name === undefined ? { text, values } : { name, text, values }).catch((err: unknown) => {
        if (name === undefined || !isStalePreparedStatement(err)) {
          throw err;
        }
        statements.forget(text);
        return client.query<pg.QueryResultRow>({ text, values });
      });
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    } catch (err) {
      throw asDatabaseFault(err);
    }
  };
  const runScript = async (client: pg.Pool | pg.PoolClient, script: string): Promise<void> => {
    try {
      await client.query(script);
    } catch (err) {
      throw asDatabaseFault(err);
    }
  };
  return {
    kind: 'postgres',
    query: (statement) => run(pool, statement),
    async transaction(fn, isolation = 'read committed') {
      const client = await pool.connect().catch((err: unknown) => {
        throw asDatabaseFault(err);
      });
      // Set when ROLLBACK fails: the connection is broken, and releasing it with the error makes the pool close it
      // instead of handing it to the next caller.
      let broken: Error | undefined;
      // BEGIN goes with the first statement (a snapshot is taken by a transaction's first statement, not by BEGIN, so
      // nothing changes for what runs in it); a transaction whose one statement is its last needs none (queryLast).
      let begun = false;
      const guard = lastStatementGuard();
      const ready = async (last: boolean): Promise<void> => {
        guard(last);
        if (!begun && !(last && isolation === 'read committed')) {
          begun = true;
          await runScript(client, `BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}`);
        }
      };
      try {
        const result = await fn({
          async query(statement) {
            await ready(false);
            return run(client, statement);
          },
          async queryLast(statement) {
            await ready(true);
            return run(client, statement);
          },
          async exec(script) {
            await ready(false);
            await runScript(client, script);
          },
        });
        if (begun) {
          await runScript(client, 'COMMIT');
        }
        return result;
      } catch (err) {
        // Also when nothing was begun (PostgreSQL only warns then): a connection that cannot answer it is broken.
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError instanceof Error ? rollbackError : new Error('ROLLBACK failed');
        });
        throw asDatabaseFault(err);
      } finally {
        client.release(broken);
      }
    },
    exec: (script) => runScript(pool, script),
    listen: (channel, onNotify, onLost) => listenPostgres(url, channel, onNotify, onLost),
    poolUse: () => ({ max, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async close() {
      await pool.end();
    },
  };
}

/**
 * The database errors a caller may retry become 503 OperationOutcomeErrors: a statement PostgreSQL cancelled (SQLSTATE
 * 57014 query_canceled: the statement timeout, or an operator's pg_cancel_backend; issue timeout) and a lost or refused
 * connection ({@link isConnectionLoss}; issue transient). Any other error passes unchanged.
 */
function asDatabaseFault(err: unknown): unknown {
  if (err instanceof OperationOutcomeError) {
    return err;
  }
  if (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '57014') {
    return new OperationOutcomeError(statementTimeout(), { cause: err });
  }
  return isConnectionLoss(err) ? new OperationOutcomeError(databaseUnavailable(), { cause: err }) : err;
}

/** Checks each statement of a transaction as it starts (`last`: run by queryLast): none may come after the last one. */
function lastStatementGuard(): (last: boolean) => void {
  let ended = false;
  return (last) => {
    if (ended) {
      throw new Error('A statement ran in a transaction after its last one');
    }
    ended = last;
  };
}

const RELISTEN_DELAY_MS = 1000;

async function listenPostgres(url: string, channel: ListenChannel, onNotify: () => void, onLost?: () => void): Promise<Listener> {
  let closed = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const open = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url, ...CONNECTION_SETTINGS });
    // A lost connection emits 'error' and then 'end'; 'end' is where we listen again.
    next.on('error', () => !closed && onLost?.());
    next.on('notification', (message) => {
      if (message.channel === channel) {
        onNotify();
      }
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${channel}`);
    } catch (err) {
      await next.end().catch(() => undefined);
      throw err;
    }
    if (closed) {
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
    next.once('end', () => {
      client = undefined;
      if (!closed) {
        onLost?.();
        reopenLater();
      }
    });
  };
  // Listen again a second later (and again until it works); then catch up once on what was missed meanwhile.
  const reopenLater = (): void => {
    retry = setTimeout(() => {
      open().then(
        () => !closed && onNotify(),
        () => !closed && reopenLater(),
      );
    }, RELISTEN_DELAY_MS);
  };

  await open();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  // One process per data directory (data-dir-lock.ts): a second one would corrupt the files. The cluster lives in
  // `pglite/` inside it, since PGlite's initdb needs an empty directory and the data directory also holds the lock,
  // the development admin token and the demo's files; a data directory made before that holds the cluster itself.
  const unlock = await lockDataDir(dataDir);
  let db: PGlite;
  try {
    const clusterDir = existsSync(join(dataDir, 'PG_VERSION')) ? dataDir : join(dataDir, 'pglite');
    mkdirSync(clusterDir, { recursive: true });
    db = new PGlite(clusterDir);
    await db.waitReady;
    // A statement is planned once and its plan reused, as on PostgreSQL (openPostgres); PGlite has no JIT.
    await db.exec('SET plan_cache_mode = force_generic_plan');
  } catch (err) {
    await unlock();
    throw err;
  }
  const statements = createStatementNamer();
  const prepared = pgliteStatements(db);
  const run = async <R>(target: Pick<PGlite, 'query'>, statement: Sql, inTransaction: boolean): Promise<QueryResult<R>> => {
    const { text, values } = statement.render();
    const name = statements.nameOf(text);
    const result =
      name === undefined
        ? await target.query<R>(text, values)
        : await prepared.run<R>(name, text, values, inTransaction).catch((err: unknown) => {
            if (!isStalePreparedStatement(err)) {
              throw err;
            }
            statements.forget(text);
            return target.query<R>(text, values);
          });
    return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
  };
  // PGlite has one connection, and its transaction() holds it until fn settles: a statement or transaction on the
  // database itself from inside fn would wait for fn forever. Such a call throws at once instead (a bug to fix).
  const insideTransaction = new AsyncLocalStorage<true>();
  const outsideTransaction = (): void => {
    if (insideTransaction.getStore()) {
      throw new Error('PGlite: a statement on the database from inside one of its transactions would deadlock');
    }
  };
  // Statements and transactions on the one connection, running or queued: what poolUse() reports.
  let pending = 0;
  const counted = async <T>(work: () => Promise<T>): Promise<T> => {
    pending++;
    try {
      return await work();
    } finally {
      pending--;
    }
  };
  return {
    kind: 'pglite',
    async query(statement) {
      outsideTransaction();
      return counted(() => run(db, statement, false));
    },
    async transaction(fn, isolation = 'read committed') {
      outsideTransaction();
      return counted(() =>
        db.transaction((tx) =>
          insideTransaction.run(true, async () => {
            // Prepared like every other statement: one parse per database, not one per transaction.
            await run(tx, raw(`SET TRANSACTION ISOLATION LEVEL ${isolation.toUpperCase()}`), true);
            // PGlite's transaction has begun already: a last statement is just the last one here.
            const ready = lastStatementGuard();
            return fn({
              async query(statement) {
                ready(false);
                return run(tx, statement, true);
              },
              async queryLast(statement) {
                ready(true);
                return run(tx, statement, true);
              },
              exec: async (script) => {
                ready(false);
                await tx.exec(script);
              },
            });
          }),
        ),
      );
    },
    async exec(script) {
      outsideTransaction();
      await counted(() => db.exec(script));
    },
    async listen(channel, onNotify) {
      const unlisten = await db.listen(channel, () => insideTransaction.exit(onNotify));
      return { close: unlisten };
    },
    poolUse: () => ({ max: 1, total: 1, idle: pending === 0 ? 1 : 0, waiting: Math.max(0, pending - 1) }),
    async close() {
      await db.close();
      await unlock();
    },
  };
}
