// Powertools set up once per container: one structured logger and one tracer for every handler module
// (./handler.ts wires both into each invocation).
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'cirrus';

export const logger = new Logger({ serviceName });

/** X-Ray: on in Lambda with active tracing (lib/constructs/cirrus-function.ts), off anywhere else. */
export const tracer = new Tracer({ serviceName });
