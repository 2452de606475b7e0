// The engine's environment is built once (contracts/engine-environment.ts) for CDK and local/, and the engine
// parses exactly what it builds: same names, values in range, defaults where the builder leaves one out.
import { ENGINE_HEALTH_PORT, engineEnvironment } from '@contracts/engine-environment';
import { DEFAULT_ENGINE_SHARDS } from '@contracts/resources';
import { engineConfigSchema, loadEngineConfig } from '@engine/service/config';

const base = {
  shard: DEFAULT_ENGINE_SHARDS[0],
  orderQueueUrl: 'https://sqs.example/q.fifo',
  eventStreamName: 'cirrus-dev-engine-events',
  snapshotBucket: 'cirrus-dev-engine-snapshots',
};

describe('engineEnvironment', () => {
  it('is what the engine reads, with its defaults, as the CDK stack builds it', () => {
    expect(loadEngineConfig(engineEnvironment({ ...base, heartbeat: true }))).toEqual({
      ENGINE_SHARD: 'shard0',
      ENGINE_MARKETS: 'BTCUSDT,ETHUSDT',
      ORDER_QUEUE_URL: base.orderQueueUrl,
      EVENT_STREAM_NAME: base.eventStreamName,
      SNAPSHOT_BUCKET: base.snapshotBucket,
      SNAPSHOT_EVERY_COMMANDS: 10_000,
      QUEUE_VISIBILITY_SECONDS: 30,
      RECEIVERS: 4,
      HEALTH_PORT: ENGINE_HEALTH_PORT,
      ENGINE_HEARTBEAT: 'on',
    });
  });

  it('carries every option the local runtime sets', () => {
    const config = loadEngineConfig(
      engineEnvironment({
        ...base,
        heartbeat: false,
        snapshotEveryCommands: 500,
        receivers: 2,
        queueVisibilitySeconds: 60,
        healthPort: 0,
      }),
    );
    expect(config).toMatchObject({
      ENGINE_HEARTBEAT: 'off',
      SNAPSHOT_EVERY_COMMANDS: 500,
      RECEIVERS: 2,
      QUEUE_VISIBILITY_SECONDS: 60,
      HEALTH_PORT: 0,
    });
  });

  it('names only variables the engine knows', () => {
    const known = Object.keys(engineConfigSchema.shape);
    const built = engineEnvironment({
      ...base,
      heartbeat: true,
      snapshotEveryCommands: 1,
      receivers: 1,
      queueVisibilitySeconds: 1,
      healthPort: 1,
    });
    expect(Object.keys(built).filter((k) => !known.includes(k))).toEqual([]);
  });

  it('is refused by the engine when a value is out of range', () => {
    expect(() => loadEngineConfig(engineEnvironment({ ...base, heartbeat: true, receivers: 99 }))).toThrow(
      /engine configuration is invalid/,
    );
  });
});
