// The Fargate task's entry point: load config, recover, consume until SIGTERM, then stop cleanly
// (publish what is pending, final snapshot) within ECS's stop timeout.
import { Logger } from '@aws-lambda-powertools/logger';
import { loadEngineConfig } from './config';
import { runEngine } from './run';

const logger = new Logger({ serviceName: 'cirrus-engine' });

async function main(): Promise<void> {
  const config = loadEngineConfig();
  const engine = await runEngine(config, {
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  });
  logger.info('engine running', { shard: config.ENGINE_SHARD, markets: config.ENGINE_MARKETS });
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    engine.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error('stop failed', { err: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  logger.error('engine failed to start', { err: err instanceof Error ? err.stack : String(err) });
  process.exit(1);
});
