import type { Config } from 'jest';
import base from '../../jest.config';

// The suites that judge the mutated files (test/mutation/stryker.config.mjs): engine core, money, postings,
// order plans. Property tests run in their fast profile (CIRRUS_PROPERTY_PROFILE=fast, set by the scripts).
// CIRRUS_MUTATION_SUITES=money|engine|ledger narrows the suites to those that import the mutated files: a mutant in
// module-level code (a "static" mutant) runs every suite in the list, property tests included.
// CIRRUS_MUTATION_SUITES=engine-unit keeps only the engine's unit suites (no property tests): much faster on a
// busy machine, and its score is a lower bound of the full one (fewer tests kill fewer mutants).
// engine-quick also leaves out the two slow id-memory suites (order-id-memory: 100,000 closed ids per
// fixture; closed-id-set): for market-book.ts and book-side.ts, whose mutants they barely reach.
const MONEY = [
  '<rootDir>/test/unit/money.test.ts',
  '<rootDir>/test/unit/plan-order.test.ts',
  '<rootDir>/test/unit/ledger-*.test.ts',
];
const ENGINE = ['<rootDir>/test/unit/engine/**/*.test.ts', '<rootDir>/test/property/**/*.test.ts'];
const ENGINE_UNIT = ['<rootDir>/test/unit/engine/**/*.test.ts'];
// The ledger repository's SQL calls are judged by the suites that run them against a real PostgreSQL.
const LEDGER = [
  '<rootDir>/test/integration/ledger-pg.test.ts',
  '<rootDir>/test/integration/ledger-model-pg.test.ts',
  '<rootDir>/test/integration/ledger-repository.test.ts',
];
const SUITES: Record<string, string[]> = {
  money: MONEY,
  ledger: LEDGER,
  engine: ENGINE,
  'engine-unit': ENGINE_UNIT,
  'engine-quick': [...ENGINE_UNIT, '!**/order-id-memory.test.ts', '!**/closed-id-set.test.ts'],
  all: [...ENGINE, ...MONEY],
};

const config: Config = {
  ...base,
  rootDir: '../..',
  roots: ['<rootDir>/test'],
  testMatch: SUITES[process.env.CIRRUS_MUTATION_SUITES ?? 'all'] ?? SUITES.all,
  maxWorkers: 1,
  testSequencer: '<rootDir>/test/mutation/sequencer.mjs',
};

export default config;
