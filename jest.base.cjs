// Shared Jest settings: TypeScript through SWC, tests beside the code (x.test.ts, x.int.test.ts).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'commonjs' } }],
  },
  testMatch: ['<rootDir>/src/**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'json', 'cjs'],
  maxWorkers: process.env.CI ? 2 : '50%',
  testTimeout: 30000,
};
