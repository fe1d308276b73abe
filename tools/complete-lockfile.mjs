// Completes package-lock.json with the platform-specific optional packages (esbuild, swc, turbo ... for other
// operating systems) that `npm install` could not resolve from a registry mirror lacking them. `npm ci` refuses a lock
// that omits any optionalDependency; on this platform such entries are skipped at install time like any optional
// package that cannot be fetched. Run after changing dependencies: `npm install && npm run lock:complete`.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
const added = [];
for (const [location, meta] of Object.entries(packages)) {
  for (const [name, spec] of Object.entries(meta.optionalDependencies ?? {})) {
    const nested = `${location ? `${location}/` : ''}node_modules/${name}`;
    const hoisted = `node_modules/${name}`;
    if (packages[nested] || packages[hoisted]) {
      continue;
    }
    packages[hoisted] = { version: spec, optional: true, ...(meta.dev ? { dev: true } : {}) };
    added.push(`${name}@${spec}`);
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
process.stdout.write(`complete-lockfile: added ${added.length} optional platform package entries\n`);
