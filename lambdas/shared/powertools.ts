// Powertools set up once per container: one structured logger for every handler module, and the tracer where
// tracing runs (./handler.ts wires both into each invocation).
import { Logger } from '@aws-lambda-powertools/logger';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { MiddlewareObj } from '@middy/core';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'cirrus';

export const logger = new Logger({ serviceName });

/**
 * Powertools' own rule for when X-Ray tracing runs: in a Lambda execution environment (not SAM local or the
 * Amplify mock) unless POWERTOOLS_TRACE_ENABLED=false. Active tracing is on for every function
 * (lib/constructs/cirrus-function.ts); the local runtime is never traced.
 */
export function tracingRuns(env: NodeJS.ProcessEnv = process.env): boolean {
  const execEnv = env.AWS_EXECUTION_ENV ?? '';
  return (
    execEnv !== '' &&
    execEnv !== 'AWS_Lambda_amplify-mock' &&
    (env.AWS_SAM_LOCAL ?? '') === '' &&
    (env.POWERTOOLS_TRACE_ENABLED ?? '').toLowerCase() !== 'false'
  );
}

/**
 * The tracer, loaded only where tracing runs. Loading it loads aws-xray-sdk-core, whose cls-hooked namespace
 * installs an async hook with destroy tracking on import, traced or not: every promise then costs ~10× more
 * (1,000,000 awaits on Node 20: 54 ms → 600 ms), which took ~2 CPU-ms per order from the local exchange.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- the tracer's modules load only where tracing runs */
export const tracer: Tracer | undefined = tracingRuns()
  ? new (require('@aws-lambda-powertools/tracer') as typeof import('@aws-lambda-powertools/tracer')).Tracer({
      serviceName,
    })
  : undefined;

/** The tracer's captureLambdaHandler (the handler's X-Ray segment) where tracing runs; none elsewhere. */
export function tracerMiddlewares(): MiddlewareObj[] {
  if (!tracer) return [];
  const { captureLambdaHandler } =
    require('@aws-lambda-powertools/tracer/middleware') as typeof import('@aws-lambda-powertools/tracer/middleware');
  return [captureLambdaHandler(tracer, { captureResponse: false })];
}
/* eslint-enable @typescript-eslint/no-require-imports */
