// Every Lambda entry point as Powertools documents it: a middy handler with the logger's injectLambdaContext
// (each log line carries the function name, cold start and request id; keys appended during an invocation
// are dropped after it) and, where tracing runs (Lambda with active tracing, ./powertools.ts), the tracer's
// captureLambdaHandler (the handler's segment in X-Ray). The HTTP functions get the same through
// createApiHandler (./http/index.ts).
//
// Lambda always passes a context. The local runtime's triggers and tests that invoke a handler directly may
// not; they get one built here, with a fresh request id. (Locally several invocations share one process and
// so one logger: the console's request id comes from the invocation, local/logs.ts, not from this context.)
import { randomUUID } from 'node:crypto';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, tracerMiddlewares } from './powertools';

/** The Powertools middlewares every handler carries (also used by createApiHandler). */
export const powertoolsMiddlewares = (): middy.MiddlewareObj[] => [
  injectLambdaContext(logger, { resetKeys: true }),
  ...tracerMiddlewares(),
];

export function lambdaHandler<E, R>(
  fn: (event: E, context: Context) => Promise<R>,
): (event: E, context?: Context) => Promise<R> {
  // No early-timeout race (createApiHandler explains the cost); the function's own timeout still applies.
  const wrapped = middy(fn, { timeoutEarlyInMillis: 0 }).use([...powertoolsMiddlewares()]);
  return (event, context) => wrapped(event, context ?? invocationContext());
}

function invocationContext(): Context {
  const name = process.env.AWS_LAMBDA_FUNCTION_NAME ?? process.env.POWERTOOLS_SERVICE_NAME ?? 'cirrus-local';
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
