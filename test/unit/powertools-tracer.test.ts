// The tracer loads only where tracing runs (lambdas/shared/powertools.ts): loading it installs X-Ray's
// async hook, which makes every promise of the process dearer, traced or not.
import { execFileSync } from 'node:child_process';
import { tracingRuns } from '@lambdas/shared/powertools';

/** Loads every handler-facing shared module in a fresh process; says what got loaded and what it made. */
function loadIn(env: Record<string, string>) {
  const script = `
    require('tsx/cjs');
    const p = require('./lambdas/shared/powertools');
    const h = require('./lambdas/shared/handler');
    const c = require('./lambdas/shared/clients');
    const sqs = c.sqsClient();
    console.log(JSON.stringify({
      xray: Object.keys(require.cache).some((k) => k.includes('aws-xray-sdk-core')),
      tracer: p.tracer !== undefined,
      middlewares: h.powertoolsMiddlewares().length,
      sqsMiddlewares: sqs.middlewareStack.identify().length,
    }));`;
  const clean = { ...process.env };
  for (const k of ['AWS_EXECUTION_ENV', 'AWS_SAM_LOCAL', 'POWERTOOLS_TRACE_ENABLED']) delete clean[k];
  const out = execFileSync(process.execPath, ['-e', script], {
    cwd: `${__dirname}/../..`,
    env: { ...clean, AWS_REGION: 'us-east-1', ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop()!) as {
    xray: boolean;
    tracer: boolean;
    middlewares: number;
    sqsMiddlewares: number;
  };
}

describe('tracingRuns (Powertools rule)', () => {
  it.each([
    [{}, false],
    [{ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' }, true],
    [{ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', POWERTOOLS_TRACE_ENABLED: 'false' }, false],
    [{ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', POWERTOOLS_TRACE_ENABLED: 'FALSE' }, false],
    [{ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', POWERTOOLS_TRACE_ENABLED: 'true' }, true],
    [{ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', AWS_SAM_LOCAL: 'true' }, false],
    [{ AWS_EXECUTION_ENV: 'AWS_Lambda_amplify-mock' }, false],
  ])('%j → %s', (env, runs) => {
    expect(tracingRuns(env)).toBe(runs);
  });
});

describe('the tracer in a process', () => {
  it('is never loaded outside Lambda (the local runtime): no X-Ray module, no tracer middleware', () => {
    const local = loadIn({});
    expect(local).toMatchObject({ xray: false, tracer: false, middlewares: 1 });
    const lambda = loadIn({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x' });
    expect(lambda).toMatchObject({ xray: true, tracer: true, middlewares: 2 });
    // The traced client carries X-Ray's middleware on top of the SDK's own.
    expect(lambda.sqsMiddlewares).toBeGreaterThan(local.sqsMiddlewares);
  });

  it('is not loaded in Lambda when POWERTOOLS_TRACE_ENABLED=false', () => {
    expect(
      loadIn({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', POWERTOOLS_TRACE_ENABLED: 'false' }),
    ).toMatchObject({ xray: false, tracer: false, middlewares: 1 });
  });
});
