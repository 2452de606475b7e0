// Stage settings from CDK context (cdk.json or -c key=value), validated with zod. Safe dev defaults, so
// `npx cdk synth` works with no arguments and no credentials.
import { z } from 'zod';

/** Where the Cloudflare authenticated-origin-pull CA bundle lives (repo-relative). A placeholder ships. */
export const DEFAULT_CLOUDFLARE_CA_BUNDLE = 'lib/assets/cloudflare-origin-pull-ca.pem';

const CONTEXT_KEYS = [
  'stage',
  'account',
  'region',
  'alarmEmail',
  'eventRetentionHours',
  'domainName',
  'wsDomainName',
  'certificateArn',
  'cloudflareCaBundlePath',
  'chainNetwork',
  'chainConfirmations',
  'chainRpcUrl',
  'chainTokens',
  'restRateLimit',
  'restBurstLimit',
  'wafRateLimitPer5Min',
] as const;

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
    /** Public REST host proxied by Cloudflare (e.g. api.cirrus.example); the custom domain with mTLS. */
    domainName: z
      .string()
      .regex(/^(?=.{4,253}$)([a-z0-9-]+\.)+[a-z]{2,}$/, 'must be a lower-case DNS name')
      .optional(),
    /** Public WebSocket host (e.g. ws.cirrus.example); defaults to `ws.` + the parent of domainName. */
    wsDomainName: z
      .string()
      .regex(/^(?=.{4,253}$)([a-z0-9-]+\.)+[a-z]{2,}$/, 'must be a lower-case DNS name')
      .optional(),
    /** Regional ACM certificate covering domainName and wsDomainName. */
    certificateArn: z
      .string()
      .regex(
        /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/,
        'must be an ACM certificate ARN',
      )
      .optional(),
    cloudflareCaBundlePath: z.string().min(1).default(DEFAULT_CLOUDFLARE_CA_BUNDLE),
    chainNetwork: z.enum(['mainnet', 'sepolia', 'hoodi']).default('sepolia'),
    /** Blocks a deposit must be buried under before it is credited. */
    chainConfirmations: z.coerce.number().int().min(1).max(1000).default(12),
    /** An external JSON-RPC endpoint used instead of the in-VPC node (e.g. while the node syncs). */
    chainRpcUrl: z.string().url().startsWith('https://', 'must be https').optional(),
    /** ERC-20 contracts the chain listener watches, e.g. {"USDT":"0x…"} (JSON, or an object in cdk.json). */
    chainTokens: z
      .union([z.string(), z.record(z.string(), z.string())])
      .transform((v) => (typeof v === 'string' ? (JSON.parse(v) as unknown) : v))
      .pipe(z.record(z.string().regex(/^[A-Z0-9]{2,12}$/), z.string().regex(/^0x[0-9a-fA-F]{40}$/)))
      .default({}),
    /** REST stage throttling: steady requests per second and burst, across all clients. */
    restRateLimit: z.coerce.number().int().min(1).default(500),
    restBurstLimit: z.coerce.number().int().min(1).default(1000),
    /** WAF rate rule: requests per client IP per 5 minutes. */
    wafRateLimitPer5Min: z.coerce.number().int().min(100).max(2_000_000_000).default(3000),
  })
  .refine((c) => c.stage !== 'prod' || c.account !== undefined, {
    message: 'prod needs an explicit account',
    path: ['account'],
  })
  .refine((c) => c.stage !== 'prod' || c.alarmEmail !== undefined, {
    message: 'prod needs alarmEmail for the alarm topic',
    path: ['alarmEmail'],
  })
  .refine((c) => c.stage !== 'prod' || c.domainName !== undefined, {
    message: 'prod needs domainName: the API is reachable only through Cloudflare on a custom domain',
    path: ['domainName'],
  })
  .refine((c) => (c.domainName === undefined) === (c.certificateArn === undefined), {
    message: 'domainName and certificateArn go together',
    path: ['certificateArn'],
  })
  .transform((c) => ({
    ...c,
    wsDomainName:
      c.wsDomainName ?? (c.domainName ? `ws.${c.domainName.split('.').slice(1).join('.')}` : undefined),
  }));

export type StageConfig = z.infer<typeof stageConfigSchema>;

export function loadStageConfig(context: (key: string) => unknown): StageConfig {
  const raw = Object.fromEntries(
    CONTEXT_KEYS.map((k) => [k, context(k)]).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = stageConfigSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid CDK context: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** Removal policy helpers: stateful resources survive a stack deletion in prod only. */
export const isProd = (c: StageConfig): boolean => c.stage === 'prod';
