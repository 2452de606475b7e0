// The import boundaries of eslint.config.mjs (docs/architecture.md#code-map) refuse what they name: each
// forbidden import below fails `npm run lint` in a file of that folder, and the allowed one beside it passes.
import { execFileSync } from 'node:child_process';

type Case = [file: string, code: string];

/**
 * The no-restricted-imports messages `npm run lint`'s ESLint reports for each case's code as if it were the
 * file named. ESLint runs in a child node process: it loads the flat config with a dynamic import, which jest's
 * module system does not offer.
 */
function refusals(cases: Case[]): string[][] {
  const script = `
    const { ESLint } = require('eslint');
    const cases = JSON.parse(process.env.CASES);
    (async () => {
      const eslint = new ESLint({ cwd: process.cwd() });
      const out = [];
      for (const [filePath, code] of cases) {
        const [r] = await eslint.lintText(code + '\\nexport {};\\n', { filePath });
        out.push(r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message));
      }
      process.stdout.write(JSON.stringify(out));
    })();`;
  const out = execFileSync(process.execPath, ['-e', script], {
    env: { ...process.env, CASES: JSON.stringify(cases) },
    encoding: 'utf8',
  });
  return JSON.parse(out) as string[][];
}

const REFUSED: Array<[...Case, string]> = [
  ['engine/core/x.ts', "import { SQSClient } from '@aws-sdk/client-sqs';", 'no AWS'],
  ['engine/core/x.ts', "import { Pool } from 'pg';", 'no AWS, database'],
  ['engine/core/x.ts', "import { MARKETS } from '@contracts/markets';", 'nothing outside engine/core'],
  ['engine/core/x.ts', "import { decodeRecord } from '../service/x';", 'nothing outside engine/core'],
  ['lambdas/api/x.ts', "import { MARKETS } from '@lib/markets';", 'never imports the CDK app'],
  ['lambdas/api/x.ts', "import { Stack } from 'aws-cdk-lib';", 'never imports the CDK app'],
  ['engine/service/x.ts', "import { TABLES } from '@lib/resources';", 'never imports the CDK app'],
  ['local/x.ts', "import { buildApp } from '../lib/app';", 'never imports the CDK app'],
  ['lib/stacks/x.ts', "import { handler } from '@lambdas/api/trading';", 'imports no handler'],
  ['lib/x.ts', "import { startLocalExchange } from '../local/exchange';", 'imports no handler'],
  ['contracts/x.ts', "import { dbPool } from '../lambdas/shared/db';", 'is neutral'],
  ['contracts/x.ts', "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';", 'is neutral'],
  ['contracts/x.ts', "import { dbPool } from '@lambdas/shared/db';", 'is neutral'],
  // The same boundaries hold for relative paths; and a relative path that climbs two levels is refused anywhere.
  ['engine/core/x.ts', "import { MARKETS } from '../../contracts/markets';", 'nothing outside engine/core'],
  ['lambdas/api/x.ts', "import { MARKETS } from '../../lib/markets';", 'never imports the CDK app'],
  ['lib/stacks/x.ts', "import { handler } from '../../lambdas/api/trading';", 'imports no handler'],
  ['lambdas/api/orders/x.ts', "import { MARKETS } from '../../../contracts/markets';", 'Use a path alias'],
  ['test/unit/x.ts', "import { dbPool } from '../../lambdas/shared/db';", 'Use a path alias'],
];

const ALLOWED: Case[] = [
  ['engine/core/x.ts', "import { BookSide } from './book-side';"],
  ['lambdas/api/x.ts', "import { MARKETS } from '@contracts/markets';"],
  ['lambdas/api/x.ts', "import { isStopType } from '@engine/core/types';"],
  ['lib/stacks/x.ts', "import { TABLES } from '@contracts/resources';"],
  ['lib/stacks/x.ts', "import type { MarketSpec } from '@engine/core/types';"],
  ['contracts/x.ts', "import type { MarketSpec } from '../engine/core/types';"],
  ['lambdas/api/orders/x.ts', "import { MARKETS } from '@contracts/markets';"],
  ['test/mutation/x.ts', "import base from '../../jest.config';"],
];

describe('import boundaries', () => {
  const refused = refusals(REFUSED.map(([file, code]) => [file, code]));
  const allowed = refusals(ALLOWED);

  it.each(REFUSED.map((c, i) => [...c, i] as const))('%s: %s is refused (%s)', (_file, _code, why, i) => {
    // A deep relative import that also crosses a boundary is reported twice (both patterns match).
    expect(refused[i]).toEqual(expect.arrayContaining([expect.stringContaining(why)]));
  });

  it.each(ALLOWED.map((c, i) => [...c, i] as const))('%s: %s is allowed', (_file, _code, i) => {
    expect(allowed[i]).toEqual([]);
  });
});
