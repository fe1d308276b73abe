const base = require('../jest.base.cjs');

module.exports = {
  ...base,
  // Dynamic import() stays import(), so ESM-only packages (kubernetes-models, in deploy/manifests.test.ts) load
  // through Node's ESM loader (--experimental-vm-modules) instead of a require() Jest cannot give them.
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'commonjs', ignoreDynamic: true } }],
  },
  testMatch: ['<rootDir>/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/bench/'],
  testTimeout: 60000,
};
