// Stage settings from CDK context (cdk.json or -c key=value), validated with zod. Safe dev defaults, so
// `npx cdk synth` works with no arguments and no credentials.
import { z } from 'zod';

export const stageConfigSchema = z
  .object({
    stage: z.enum(['dev', 'prod']).default('dev'),
    account: z
      .string()
      .regex(/^\d{12}$/)
      .optional(),
    region: z.string().default('us-east-1'),
    alarmEmail: z.string().email().optional(),
    /** Kinesis retention: must outlast the oldest engine snapshot kept (replay after a restore). */
    eventRetentionHours: z.coerce.number().int().min(24).max(8760).default(168),
  })
  .refine((c) => c.stage !== 'prod' || c.account !== undefined, {
    message: 'prod needs an explicit account',
    path: ['account'],
  })
  .refine((c) => c.stage !== 'prod' || c.alarmEmail !== undefined, {
    message: 'prod needs alarmEmail for the alarm topic',
    path: ['alarmEmail'],
  });

export type StageConfig = z.infer<typeof stageConfigSchema>;

export function loadStageConfig(context: (key: string) => unknown): StageConfig {
  const raw = Object.fromEntries(
    ['stage', 'account', 'region', 'alarmEmail', 'eventRetentionHours']
      .map((k) => [k, context(k)])
      .filter(([, v]) => v !== undefined),
  );
  const parsed = stageConfigSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid CDK context: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
