import type { Config } from 'jest';

// One config for every suite; folders under test/ say what kind of test a file is
// (unit, property, integration, infra). Type errors are caught by `npm run typecheck`,
// so ts-jest only transpiles here (isolatedModules) to keep the suite fast.
const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testTimeout: 120_000,
  maxWorkers: 2,
};

export default config;
