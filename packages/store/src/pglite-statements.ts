/**
 * Prepared statements on the embedded database. PGlite's query() parses and plans every statement afresh (an unnamed
 * statement each time), and planning an access policy's statement costs milliseconds: on PGlite a read cost 4.9 ms of
 * the process's CPU against 0.3 ms on PostgreSQL. A statement that prepared-statements.ts names is parsed here once per
 * database and its plan reused (plan_cache_mode force_generic_plan, as on PostgreSQL), through PGlite's own protocol
 * serializer and result parser, under the locks its query() takes.
 */
import { parse, protocol, type PGlite, type Results } from '@electric-sql/pglite';

type BackendMessage = Parameters<typeof parse.parseResults>[0][number];

export interface PgliteStatements {
  /**
   * Runs the statement `text` prepared under `name` (parsed on first use) with `values`; `inTransaction` when it runs
   * inside one of PGlite's transactions, whose lock the caller already holds.
   */
  run<R>(name: string, text: string, values: readonly unknown[], inTransaction: boolean): Promise<Results<R>>;
}

export function pgliteStatements(db: PGlite): PgliteStatements {
  // The parameter types of each statement prepared, by name: what its values are serialized as.
  const parameterTypes = new Map<string, number[]>();
  const send = async (message: Uint8Array): Promise<BackendMessage[]> => (await db.execProtocol(message, { syncToFs: false })).messages;

  async function execute<R>(name: string, text: string, values: readonly unknown[]): Promise<Results<R>> {
    const messages: BackendMessage[] = [];
    try {
      let types = parameterTypes.get(name);
      if (types === undefined) {
        await send(protocol.serialize.parse({ name, text }));
        types = parse.parseDescribeStatementResults(await send(protocol.serialize.describe({ type: 'S', name })));
        parameterTypes.set(name, types);
      }
      const serialized = values.map((value, i) => {
        if (value === null || value === undefined) {
          return null;
        }
        const serialize = db.serializers[types[i] ?? 0];
        return serialize ? serialize(value) : String(value);
      });
      messages.push(...(await send(protocol.serialize.bind({ statement: name, values: serialized }))));
      messages.push(...(await send(protocol.serialize.describe({ type: 'P' }))));
      messages.push(...(await send(protocol.serialize.execute({}))));
    } finally {
      // Ends the extended-protocol exchange whether or not it failed, as query() does.
      messages.push(...(await send(protocol.serialize.sync())));
    }
    const [result] = parse.parseResults(messages, db.parsers) as Results<R>[];
    if (!result) {
      throw new Error('PGlite returned no result for a prepared statement');
    }
    return result;
  }

  return {
    async run(name, text, values, inTransaction) {
      // As query() does first: a closed database refuses, and statements and transactions take their turns in the
      // order they were asked for.
      await db._checkReady();
      if (inTransaction) {
        return db._runExclusiveQuery(() => execute(name, text, values));
      }
      return db._runExclusiveTransaction(() =>
        db._runExclusiveQuery(async () => {
          const result = await execute<never>(name, text, values);
          await db.syncToFs();
          return result;
        }),
      );
    },
  };
}
