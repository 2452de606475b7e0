// The engine task's environment, built in one place for the CDK engine stack (Fargate) and the local runtime
// (the engine child process of `npm start`); engine/service/config.ts parses it back (the names match by
// test: test/unit/engine-environment.test.ts). Values are resource names and numbers, never secrets.
import { EVENT_STREAM, ORDER_QUEUE, SNAPSHOT_BUCKET, type EngineShardDef } from './resources';

/** Where the engine answers GET /health (the container health check and `npm start`'s readiness). */
export const ENGINE_HEALTH_PORT = 8081;

export interface EngineEnvironmentInput {
  shard: EngineShardDef;
  orderQueueUrl: string;
  eventStreamName: string;
  snapshotBucket: string;
  /** The CloudWatch heartbeat metric ("engine heartbeat missing" alarm): on in AWS, off locally. */
  heartbeat: boolean;
  snapshotEveryCommands?: number;
  /** SQS receivers at most (default 4). */
  receivers?: number;
  queueVisibilitySeconds?: number;
  healthPort?: number;
}

export function engineEnvironment(e: EngineEnvironmentInput): Record<string, string> {
  const env: Record<string, string> = {
    ENGINE_SHARD: e.shard.id,
    ENGINE_MARKETS: e.shard.markets.join(','),
    [ORDER_QUEUE.envVar]: e.orderQueueUrl,
    [EVENT_STREAM.envVar]: e.eventStreamName,
    [SNAPSHOT_BUCKET.envVar]: e.snapshotBucket,
    ENGINE_HEARTBEAT: e.heartbeat ? 'on' : 'off',
  };
  if (e.snapshotEveryCommands !== undefined) env.SNAPSHOT_EVERY_COMMANDS = String(e.snapshotEveryCommands);
  if (e.receivers !== undefined) env.RECEIVERS = String(e.receivers);
  if (e.queueVisibilitySeconds !== undefined) env.QUEUE_VISIBILITY_SECONDS = String(e.queueVisibilitySeconds);
  if (e.healthPort !== undefined) env.HEALTH_PORT = String(e.healthPort);
  return env;
}
