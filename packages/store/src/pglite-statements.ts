/**
 * Prepared statements on the embedded database. PGlite's query() parses and plans every statement afresh (an unnamed
 * statement each time), and planning an access policy's statement costs milliseconds: on PGlite a read cost 4.9 ms of
 * the process's CPU against 0.3 ms on PostgreSQL. A statement that prepared-statements.ts names is parsed here once per
 * database and its plan reused (plan_cache_mode force_generic_plan, as on PostgreSQL), through PGlite's own protocol
 * serializer and type parsers, under the locks its query() takes.
 */
import { messages as backend, parse, protocol, types, type PGlite, type Results } from '@electric-sql/pglite';

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
      let parameters = parameterTypes.get(name);
      if (parameters === undefined) {
        await send(protocol.serialize.parse({ name, text }));
        parameters = parse.parseDescribeStatementResults(await send(protocol.serialize.describe({ type: 'S', name })));
        parameterTypes.set(name, parameters);
      }
      const serialized = values.map((value, i) => {
        if (value === null || value === undefined) {
          return null;
        }
        const serialize = db.serializers[parameters[i] ?? 0];
        return serialize ? serialize(value) : String(value);
      });
      messages.push(...(await send(protocol.serialize.bind({ statement: name, values: serialized }))));
      messages.push(...(await send(protocol.serialize.describe({ type: 'P' }))));
      messages.push(...(await send(protocol.serialize.execute({}))));
    } finally {
      // Ends the extended-protocol exchange whether or not it failed, as query() does.
      messages.push(...(await send(protocol.serialize.sync())));
    }
    return resultOf<R>(messages, db.parsers);
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

/**
 * The result of one statement from its backend messages, as PGlite's parse.parseResults builds it (rows parsed by the
 * database's type parsers, the fields, the rows the command affected), without the copy of all of its 316 type
 * parsers that parseResults makes on every call: 85 µs a statement, a tenth of a read's CPU on the default store.
 */
function resultOf<R>(messages: readonly BackendMessage[], parsers: Parameters<typeof types.parseType>[2]): Results<R> {
  let fields: Results<R>['fields'] = [];
  const rows: R[] = [];
  let affectedRows = 0;
  for (const message of messages) {
    if (message instanceof backend.RowDescriptionMessage) {
      fields = message.fields.map((field) => ({ name: field.name, dataTypeID: field.dataTypeID }));
    } else if (message instanceof backend.DataRowMessage) {
      // A data row always follows its row description, one value per field.
      const row: Record<string, unknown> = {};
      fields.forEach((field, i) => {
        row[field.name] = types.parseType(message.fields[i] ?? null, field.dataTypeID, parsers);
      });
      rows.push(row as R);
    } else if (message instanceof backend.CommandCompleteMessage) {
      affectedRows += affectedRowsOf(message.text);
    }
  }
  return { rows, fields, affectedRows };
}

/** The rows a command tag ("INSERT 0 5", "UPDATE 3", "SELECT 2") says were changed, as PGlite counts them. */
function affectedRowsOf(tag: string): number {
  const [command, first, second] = tag.split(' ');
  switch (command) {
    case 'INSERT':
      return Number.parseInt(second ?? '0', 10);
    case 'UPDATE':
    case 'DELETE':
    case 'COPY':
    case 'MERGE':
      return Number.parseInt(first ?? '0', 10);
    default:
      return 0;
  }
}
