// Mutation testing (Stryker 8.7 on Node 20): `npm run test:mutation` (see docs/testing.md for the figures).
// Too slow for every CI run. Paths are relative to the repository root, where the npm scripts run it.
// The property tests take part in their fast profile (CIRRUS_PROPERTY_PROFILE=fast, set by the scripts).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  packageManager: 'npm',
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'test/mutation/jest.mutation.config.ts',
    enableFindRelatedTests: false,
  },
  checkers: ['typescript'],
  tsconfigFile: 'test/mutation/tsconfig.mutation.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  coverageAnalysis: 'perTest',
  mutate: [
    'engine/core/market-book.ts',
    'engine/core/book-side.ts',
    'engine/core/engine.ts',
    'engine/core/market.ts',
    'lambdas/shared/money.ts',
    'lambdas/shared/ledger/postings.ts',
    'lambdas/api/orders/plan-order.ts',
  ],
  // The sandbox copies the project: leave out what the tests never read.
  ignorePatterns: [
    'cdk.out',
    '.cirrus',
    '.ci/out',
    'coverage',
    'dist',
    'test/mutation/reports',
    '.scratch',
    '.stryker-tmp',
  ],
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  concurrency: 2,
  timeoutMS: 60_000,
  timeoutFactor: 2,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'test/mutation/reports/mutation.html' },
  jsonReporter: { fileName: 'test/mutation/reports/mutation.json' },
  thresholds: { high: 90, low: 85, break: null },
};

export default config;
