module.exports = {
  ...require('../jest.base.cjs'),
  testMatch: ['<rootDir>/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/bench/'],
  testTimeout: 60000,
};
