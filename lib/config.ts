// Stage settings from CDK context (cdk.json or -c key=value), validated with zod. Safe dev defaults, so
// `npx cdk synth` works with no arguments and no credentials.
import { z } from 'zod';

/** Where the Cloudflare authenticated-origin-pull CA bundle lives (repo-relative). A placeholder ships. */
export const DEFAULT_CLOUDFLARE_CA_BUNDLE = 'lib/assets/cloudflare-origin-pull-ca.pem';

const CONTEXT_KEYS = [
  'stage',
  'account',
  'region',
  'azs',
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
  'withdrawReplaceAfterSeconds',
  'withdrawMaxFeePerGasGwei',
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
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be a region name, e.g. us-east-1')
      .default('us-east-1'),
    /**
     * The availability zones of the VPC, e.g. `us-east-1a,us-east-1b` (comma-separated, or a list in cdk.json).
     * Given, synth needs no AWS lookup; see `defaultAvailabilityZones` for what an account-bound stage uses
     * without it. At least two: the database is Multi-AZ and the search domain zone-aware in prod.
     */
    azs: z
      .union([z.string(), z.array(z.string())])
      .transform((v) =>
        (typeof v === 'string' ? v.split(',') : v).map((az) => az.trim()).filter((az) => az !== ''),
      )
      .pipe(
        z
          .array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'must be zone names, e.g. us-east-1a'))
          .min(2, 'name at least two availability zones')
          .max(6)
          .refine((list) => new Set(list).size === list.length, 'names a zone twice'),
      )
      .optional(),
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
    /** A withdrawal transaction unmined this long is replaced with the same nonce and higher fees. */
    withdrawReplaceAfterSeconds: z.coerce.number().int().min(1).max(86_400).default(180),
    /** The most maxFeePerGas (gwei, up to 9 decimals) a replacement may offer; none: no ceiling. */
    withdrawMaxFeePerGasGwei: z
      .union([z.string(), z.number()])
      .transform(String)
      .pipe(z.string().regex(/^\d{1,9}(\.\d{1,9})?$/, 'must be gwei, e.g. 150 or 0.5'))
      .optional(),
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
  .refine((c) => c.azs === undefined || c.azs.every((az) => az.slice(0, -1) === c.region), {
    message: 'every availability zone must lie in the region',
    path: ['azs'],
  })
  .transform((c) => ({
    ...c,
    azs: c.azs ?? (c.account !== undefined ? defaultAvailabilityZones(c.region, c.stage) : undefined),
    wsDomainName:
      c.wsDomainName ?? (c.domainName ? `ws.${c.domainName.split('.').slice(1).join('.')}` : undefined),
  }));

export type StageConfig = z.infer<typeof stageConfigSchema>;

/**
 * The zones an account-bound stage (account given: always prod) uses when `azs` is not set: the region's
 * `a`, `b` (and `c` in prod), so synth never asks AWS. A stage without an account stays environment-agnostic
 * and takes the first two zones of the region it is deployed to (Fn::GetAZs), as before.
 */
export function defaultAvailabilityZones(region: string, stage: 'dev' | 'prod'): string[] {
  return (stage === 'prod' ? ['a', 'b', 'c'] : ['a', 'b']).map((letter) => `${region}${letter}`);
}

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
