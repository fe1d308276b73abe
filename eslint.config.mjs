// One lint configuration for every package (CONVENTIONS.md, practice 12): type-aware rules that catch what review
// misses — floating promises, non-exhaustive switches, loose equality, value imports used only as types.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const SERVICES = ['@carecircle/api', '@carecircle/worker', '@carecircle/portal', '@carecircle/launcher'];
/** Every service package but `own`: a service importing another is refused. */
const servicesBut = (own) =>
  SERVICES.filter((name) => name !== own).map((name) => ({ name, message: 'Services never import each other: services/launcher composes them (issue 16).' }));
const SQL_OUTSIDE_STORE = [
  { name: 'pg', message: 'SQL lives in packages/store: add a typed function to a table module there (issue 16).' },
  {
    name: '@carecircle/store',
    importNames: ['sql', 'raw', 'join'],
    message: 'SQL lives in packages/store: add a typed function to a table module there (issue 16).',
  },
];

const TEST_FILES = ['**/*.test.ts', '**/*.test.tsx', '**/testing/**'];

/**
 * Full access (issue 16): only @carecircle/access builds a repository with every right. `createServerRepository`, the
 * server's own jobs' (written as SERVER_CALLER), is the worker's (store's migrations and tests need no repository);
 * `createRecordsRepository`, for the records the server keeps while serving a caller, is the API's admin area's and
 * its operations'; store's `fullAccess` policy is for store, auth (the server's writer) and access (the operator's
 * policy).
 */
const importOf = (source, name) => `ImportDeclaration[source.value='${source}'] ImportSpecifier[imported.name='${name}']`;
const FULL_ACCESS = {
  server: {
    selector: importOf('@carecircle/access', 'createServerRepository'),
    message: "Only the server's own jobs (services/worker) build the full-access server repository (issue 16).",
  },
  records: {
    selector: importOf('@carecircle/access', 'createRecordsRepository'),
    message: "The records repository (every right, judged as the caller) is for the API's admin area and operations only (issue 16).",
  },
  policy: {
    selector: importOf('@carecircle/store', 'fullAccess'),
    message: 'Full access is built only in @carecircle/access: createServerRepository (the worker) or createRecordsRepository (issue 16).',
  },
};
const PRODUCTION = ['packages/*/src/**/*.{ts,tsx}', 'services/*/src/**/*.{ts,tsx}'];
/** A lint block refusing `guards` (FULL_ACCESS entries) in the production files of `files`. */
const fullAccessGuard = (files, guards) => ({ files, ignores: TEST_FILES, rules: { 'no-restricted-syntax': ['error', ...guards] } });
/** Lint blocks keeping services/<name> from importing another service (and its production files from SQL). */
function serviceBoundary(name, patterns = []) {
  const files = [`services/${name}/src/**/*.{ts,tsx}`];
  const services = servicesBut(`@carecircle/${name}`);
  return [
    { files, ignores: TEST_FILES, rules: { 'no-restricted-imports': ['error', { paths: [...SQL_OUTSIDE_STORE, ...services], patterns }] } },
    { files: TEST_FILES.map((t) => `services/${name}/src/${t}`), rules: { 'no-restricted-imports': ['error', { paths: services, patterns }] } },
  ];
}

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '**/.turbo/**', '**/*.cjs', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-console': 'error',
    },
  },
  // Structure (issue 16), kept by lint. SQL lives in packages/store: no other production file imports `pg` or store's
  // SQL builders (test/structure/sql-in-store.test.ts also refuses SQL text written outside store).
  {
    files: ['packages/*/src/**/*.{ts,tsx}', 'services/*/src/**/*.{ts,tsx}'],
    ignores: [
      'packages/store/**',
      'packages/testing/**',
      '**/testing/**',
      '**/*.test.ts',
      '**/*.test.tsx',
    ],
    rules: {
      'no-restricted-imports': ['error', { paths: SQL_OUTSIDE_STORE }],
    },
  },
  // Services never import each other: only the launcher composes them; the portal is a client of the public API.
  // (A later block's no-restricted-imports replaces an earlier one's, so production files repeat the SQL rule.)
  ...serviceBoundary('api'),
  ...serviceBoundary('worker'),
  ...serviceBoundary('portal', [
    { regex: '^@carecircle/(?!config$|log$)', message: 'The portal is a client of the public API: it imports only @carecircle/config and @carecircle/log.' },
  ]),
  // Full access: every production file is refused all three, but where each is allowed (later blocks win).
  fullAccessGuard(PRODUCTION, [FULL_ACCESS.server, FULL_ACCESS.records, FULL_ACCESS.policy]),
  fullAccessGuard(['services/worker/src/**/*.ts'], [FULL_ACCESS.records, FULL_ACCESS.policy]),
  fullAccessGuard(['services/api/src/admin/**/*.ts', 'services/api/src/fhir/operations/operation-capabilities.ts'], [FULL_ACCESS.server, FULL_ACCESS.policy]),
  fullAccessGuard(['packages/store/src/**/*.ts', 'packages/auth/src/**/*.ts', 'packages/access/src/**/*.ts'], [FULL_ACCESS.server, FULL_ACCESS.records]),
  {
    // The portal's progressive-enhancement script runs in the browser.
    files: ['services/portal/src/assets/**/*.js'],
    languageOptions: { globals: { document: 'readonly', window: 'readonly' } },
  },
);
