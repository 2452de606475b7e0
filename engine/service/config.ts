import { z } from 'zod';
import { ENGINE_HEALTH_PORT } from '@contracts/engine-environment';

/** The engine task's settings, from its environment (contracts/engine-environment.ts builds it for CDK and local/). */
export const engineConfigSchema = z.object({
  ENGINE_SHARD: z.string().min(1),
  /** Comma-separated market symbols this shard owns. */
  ENGINE_MARKETS: z.string().min(1),
  ORDER_QUEUE_URL: z.string().min(1),
  EVENT_STREAM_NAME: z.string().min(1),
  SNAPSHOT_BUCKET: z.string().min(1),
  SNAPSHOT_EVERY_COMMANDS: z.coerce.number().int().positive().default(10_000),
  QUEUE_VISIBILITY_SECONDS: z.coerce.number().int().positive().default(30),
  RECEIVERS: z.coerce.number().int().min(1).max(32).default(4),
  HEALTH_PORT: z.coerce.number().int().min(0).max(65535).default(ENGINE_HEALTH_PORT),
  /** The CloudWatch heartbeat metric the "engine heartbeat missing" alarm watches. */
  ENGINE_HEARTBEAT: z.enum(['on', 'off']).default('on'),
});

export type EngineConfig = z.infer<typeof engineConfigSchema>;

export function loadEngineConfig(env: NodeJS.ProcessEnv = process.env): EngineConfig {
  const parsed = engineConfigSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`engine configuration is invalid: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}
