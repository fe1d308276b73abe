const base = require('../jest.base.cjs');

module.exports = {
  ...base,
  // Dynamic import() stays import(), so ESM-only packages (kubernetes-models, in deploy/manifests.test.ts) load
  // through Node's ESM loader (--experimental-vm-modules) instead of a require() Jest cannot give them.
  // TSX: the portal's pages, which the portal suites load to list its routes.
  transform: {
    '^.+\\.tsx?$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime: 'automatic', importSource: 'preact' } }, target: 'es2023' },
        module: { type: 'commonjs', ignoreDynamic: true },
      },
    ],
  },
  moduleFileExtensions: ['ts', 'tsx', 'js', 'json', 'cjs'],
  testMatch: ['<rootDir>/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/bench/'],
  testTimeout: 60000,
};
