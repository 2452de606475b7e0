import type { Config } from 'jest';
import base from '../../jest.config';

// The suites that judge the mutated files (test/mutation/stryker.config.mjs): engine core, money, postings,
// order plans. Property tests run in their fast profile (CIRRUS_PROPERTY_PROFILE=fast, set by the scripts).
const config: Config = {
  ...base,
  rootDir: '../..',
  roots: ['<rootDir>/test'],
  testMatch: [
    '<rootDir>/test/unit/engine/**/*.test.ts',
    '<rootDir>/test/property/**/*.test.ts',
    '<rootDir>/test/unit/money.test.ts',
    '<rootDir>/test/unit/plan-order.test.ts',
    '<rootDir>/test/unit/ledger-*.test.ts',
  ],
  maxWorkers: 1,
  testSequencer: '<rootDir>/test/mutation/sequencer.mjs',
};

export default config;
