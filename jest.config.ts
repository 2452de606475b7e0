import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from 'jest';
import { pathsToModuleNameMapper } from 'ts-jest';

// The path aliases (@contracts/…, @engine/…) are declared once, in tsconfig.json; jest maps the same ones.
const { compilerOptions } = JSON.parse(readFileSync(path.join(__dirname, 'tsconfig.json'), 'utf8')) as {
  compilerOptions: { paths: Record<string, string[]> };
};

// One config for every suite; folders under test/ say what kind of test a file is
// (unit, property, integration, infra). Type errors are caught by `npm run typecheck`,
// so ts-jest only transpiles here (isolatedModules) to keep the suite fast.
// The suites' local exchanges run DynamoDB Local and the search stand-in at the same CPU priority as everything
// else (npm start lowers it, docs/operations.md#local-exchange): here jest's own workers fill the cores, and
// lowered stand-ins would only make the tests that wait for the read models or the index wait longer. Workers
// inherit this environment.
process.env.DYNAMODB_NICE ??= '0';
process.env.SEARCH_NICE ??= '0';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: pathsToModuleNameMapper(compilerOptions.paths, { prefix: '<rootDir>/' }),
  testTimeout: 120_000,
  maxWorkers: 2,
};

export default config;
