/**
 * Forward-only migrations: `migrations/NNNN-name.sql`, applied in order, each once, each in its own transaction,
 * under an advisory lock so replicas starting together do not race.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from './database';
import { sql } from './sql';

const MIGRATIONS_DIR = join(__dirname, 'migrations');
// An arbitrary constant: the key of the advisory lock that serialises migrations.
const MIGRATION_LOCK_KEY = 727_274_001;

/** The migration files in apply order. */
export function listMigrations(): string[] {
  return readdirSync(MIGRATIONS_DIR)
    .filter((f) => /^\d{4}-[a-z0-9-]+\.sql$/.test(f))
    .sort();
}

/** A migration that failed: its file name, and the database's error (the message names what went wrong, not data). */
export class MigrationError extends Error {
  override readonly name = 'MigrationError';

  constructor(
    readonly migration: string,
    options: { cause: unknown },
  ) {
    super(`Migration ${migration} failed: ${options.cause instanceof Error ? options.cause.message : String(options.cause)}`, options);
  }
}

/**
 * Applies every migration not yet recorded in `schema_migration`; returns the names it applied. A migration that
 * fails rolls back all of them and throws a {@link MigrationError} naming it.
 */
export async function migrate(db: Database): Promise<string[]> {
  const applied: string[] = [];
  await db.transaction(async (tx) => {
    // Waiting for another replica's migrations, and a migration itself, may outlast the statement timeout of requests.
    await tx.exec('SET LOCAL statement_timeout = 0');
    await tx.query(sql`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await tx.exec(
      'CREATE TABLE IF NOT EXISTS schema_migration (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set(
      (await tx.query<{ name: string }>(sql`SELECT name FROM schema_migration`)).rows.map((r) => r.name),
    );
    for (const name of listMigrations()) {
      if (done.has(name)) {
        continue;
      }
      const script = readFileSync(join(MIGRATIONS_DIR, name), 'utf8');
      try {
        await tx.exec(script);
      } catch (err) {
        throw new MigrationError(name, { cause: err });
      }
      await tx.query(sql`INSERT INTO schema_migration (name) VALUES (${name})`);
      applied.push(name);
    }
  });
  return applied;
}
