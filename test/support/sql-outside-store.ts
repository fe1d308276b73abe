/**
 * Finds the production source files outside packages/store that speak SQL (issue 16: all SQL lives in store), for the
 * tree test in structure/sql-in-store.test.ts. A file speaks SQL when it writes an `sql` template, builds a `raw(...)`
 * fragment or imports the `pg` driver. Tests, test helpers (`testing/` folders, packages/testing) and this whole-system
 * workspace are not production code and are not scanned.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** What marks SQL in a TypeScript source: an `sql` tag, a `raw(` call, or an import or require of `pg`. */
const SQL_MARKS: readonly RegExp[] = [
  /\bsql`/,
  /(?<![.\w])raw\(/,
  /\bfrom\s+['"]pg(?:\/[^'"]*)?['"]/,
  /\b(?:require|import)\(\s*['"]pg(?:\/[^'"]*)?['"]\s*\)/,
];

/** True when `source` (a file's text) writes SQL or imports `pg`. */
export function containsSql(source: string): boolean {
  return SQL_MARKS.some((mark) => mark.test(source));
}

/** True for a path (relative to the repository root, `/`-separated) of production source outside store. */
export function isScannedPath(path: string): boolean {
  if (!/^(packages|services)\/[^/]+\/src\//.test(path) || path.startsWith('packages/store/')) {
    return false;
  }
  if (path.startsWith('packages/testing/') || path.includes('/testing/')) {
    return false;
  }
  return /\.tsx?$/.test(path) && !/\.test\.tsx?$/.test(path) && !path.endsWith('.d.ts');
}

/**
 * The paths among `files` that are scanned, contain SQL and are not in `allowed`: what the tree test refuses.
 */
export function unlistedSqlFiles(
  files: Iterable<{ path: string; source: string }>,
  allowed: ReadonlySet<string>,
): string[] {
  const unlisted: string[] = [];
  for (const { path, source } of files) {
    if (isScannedPath(path) && containsSql(source) && !allowed.has(path)) {
      unlisted.push(path);
    }
  }
  return unlisted.sort();
}

/** The scanned files under `root` (the repository root) that contain SQL, as sorted `/`-separated relative paths. */
export function filesWithSqlOutsideStore(root: string): string[] {
  return unlistedSqlFiles(scannedSources(root), new Set());
}

/** Each scanned file under `root` (the repository root) with its text. */
export function* scannedSources(root: string): Generator<{ path: string; source: string }> {
  for (const workspace of ['packages', 'services']) {
    for (const file of walk(join(root, workspace))) {
      const path = relative(root, file).split(sep).join('/');
      if (isScannedPath(path)) {
        yield { path, source: readFileSync(file, 'utf8') };
      }
    }
  }
}

function* walk(directory: string): Generator<string> {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) {
      continue;
    }
    const path = join(directory, entry.name);
    if (entry.isDirectory()) {
      yield* walk(path);
    } else if (entry.isFile()) {
      yield path;
    }
  }
}
