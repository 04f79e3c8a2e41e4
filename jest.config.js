/** Jest in native ESM mode (NestJS 12 is ESM only): run with NODE_OPTIONS=--experimental-vm-modules. */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  // Maps `./x.js` to `./x.ts` for our sources. The lookahead leaves `*.json.js` alone: libphonenumber-js imports
  // `../metadata.max.json.js`, and stripping its `.js` made Jest load the raw JSON without an import attribute
  // (five "importing JSON without an import attribute" warnings per test file).
  moduleNameMapper: { '^(\\.{1,2}/(?!.*\\.json\\.js$).*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testTimeout: 60000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};
