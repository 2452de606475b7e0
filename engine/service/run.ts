// Wires the engine service to real AWS clients (SDK v3, unmodified). Used by the Fargate task (main.ts)
// and by the local runtime, which points the same clients at the stand-ins through AWS_ENDPOINT_URL_*.
import { createServer, type Server } from 'node:http';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { MARKETS } from '@contracts/markets';
import { rulesFromSpec } from '../core/market';
import { CloudWatchHeartbeat } from './adapters/cloudwatch-heartbeat';
import { KinesisEventLog } from './adapters/kinesis-event-log';
import { S3SnapshotStore } from './adapters/s3-snapshot-store';
import { SqsCommandSource } from './adapters/sqs-command-source';
import type { EngineConfig } from './config';
import { EngineService } from './engine-service';
import type { ServiceLogger } from './ports';

export interface RunningEngine {
  service: EngineService;
  stop(): Promise<void>;
}

export async function runEngine(config: EngineConfig, logger: ServiceLogger): Promise<RunningEngine> {
  const symbols = config.ENGINE_MARKETS.split(',').map((s) => s.trim());
  const specs = symbols.map((symbol) => {
    const spec = MARKETS.find((m) => m.symbol === symbol);
    if (!spec) throw new Error(`ENGINE_MARKETS names unknown market ${symbol}`);
    return spec;
  });
  // HTTP/1.1 keep-alive handler: required by kinesalite locally, and cheap for long polls in AWS.
  const requestHandler = new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 30_000 });
  const sqs = new SQSClient({ requestHandler, useQueueUrlAsEndpoint: false });
  const kinesis = new KinesisClient({ requestHandler });
  const s3 = new S3Client({ requestHandler, forcePathStyle: !!process.env.AWS_ENDPOINT_URL_S3 });
  const cloudwatch = new CloudWatchClient({ requestHandler });
  const eventLog = new KinesisEventLog(kinesis, config.EVENT_STREAM_NAME);

  const service = new EngineService({
    shard: config.ENGINE_SHARD,
    markets: specs.map(rulesFromSpec),
    source: new SqsCommandSource(sqs, config.ORDER_QUEUE_URL, config.QUEUE_VISIBILITY_SECONDS),
    sink: eventLog,
    log: eventLog,
    snapshots: new S3SnapshotStore(s3, config.SNAPSHOT_BUCKET),
    heartbeat:
      config.ENGINE_HEARTBEAT === 'on' ? new CloudWatchHeartbeat(cloudwatch, config.ENGINE_SHARD) : undefined,
    logger,
    receivers: config.RECEIVERS,
    snapshotEveryCommands: config.SNAPSHOT_EVERY_COMMANDS,
    visibilityTimeoutSeconds: config.QUEUE_VISIBILITY_SECONDS,
  });
  await service.start();
  const health = await startHealthServer(config.HEALTH_PORT);
  return {
    service,
    async stop() {
      await service.stop();
      await new Promise<void>((resolve) => health.close(() => resolve()));
      for (const client of [sqs, kinesis, s3, cloudwatch]) client.destroy();
    },
  };
}

/** GET /health → 200 once the engine has recovered and is consuming (the ECS container health check). */
function startHealthServer(port: number): Promise<Server> {
  const server = createServer((req, res) => {
    const ok = req.url === '/health';
    res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ok ? { status: 'ok' } : { status: 'not found' }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
