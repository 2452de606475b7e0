// Withdrawal limits and fees per coin (docs/wallets.md#withdrawals), in decimal strings, read from the
// environment (WITHDRAW_FEES, WITHDRAW_DAILY_LIMITS, WITHDRAW_GLOBAL_DAILY_LIMITS as JSON {"ETH":"0.001"};
// WITHDRAW_ADDRESS_HOLD_SECONDS), and when the wallet replaces a stuck transaction (WITHDRAW_REPLACE_AFTER_SECONDS,
// WITHDRAW_MAX_FEE_PER_GAS_GWEI): configuration, not secrets.
import { z } from 'zod';
import { parseUnits } from '../shared/money';

const DEFAULT_FEES: Record<string, string> = { ETH: '0.0005', USDT: '1' };
const DEFAULT_DAILY_LIMITS: Record<string, string> = { ETH: '100', USDT: '200000' };
/** Exchange-wide, all users together: what the hot wallet may send in 24 h. */
const DEFAULT_GLOBAL_DAILY_LIMITS: Record<string, string> = { ETH: '1000', USDT: '2000000' };
/** A new allowlisted address becomes usable after this hold (24 h). */
export const DEFAULT_ADDRESS_HOLD_SECONDS = 86_400;

const decimals = z.record(z.string(), z.string().regex(/^\d{1,20}(\.\d{1,18})?$/));
const fromEnv = (raw: string | undefined, fallback: Record<string, string>) =>
  raw ? decimals.parse(JSON.parse(raw)) : fallback;

export interface WithdrawRules {
  /** Network fee charged to the user, ledger units. */
  fee: bigint;
  /** Most withdrawn (amount + fee) per user in 24 h, ledger units. */
  dailyLimit: bigint;
  /** Most sent (amounts, fees excluded) by all users together in 24 h, ledger units. */
  globalDailyLimit: bigint;
}

/** The rules for `coin` at ledger scale `scale`, or undefined when the coin cannot be withdrawn. */
export function withdrawRules(
  coin: string,
  scale: number,
  env: Record<string, string | undefined> = process.env,
): WithdrawRules | undefined {
  const fee = fromEnv(env.WITHDRAW_FEES, DEFAULT_FEES)[coin];
  const limit = fromEnv(env.WITHDRAW_DAILY_LIMITS, DEFAULT_DAILY_LIMITS)[coin];
  const global = fromEnv(env.WITHDRAW_GLOBAL_DAILY_LIMITS, DEFAULT_GLOBAL_DAILY_LIMITS)[coin];
  if (fee === undefined || limit === undefined || global === undefined) return undefined;
  return {
    fee: parseUnits(fee, scale),
    dailyLimit: parseUnits(limit, scale),
    globalDailyLimit: parseUnits(global, scale),
  };
}

/** How long a new allowlisted address waits before withdrawals may use it, in milliseconds. */
export function addressHoldMs(env: Record<string, string | undefined> = process.env): number {
  const raw = env.WITHDRAW_ADDRESS_HOLD_SECONDS;
  // Whole seconds, at most 30 days; anything else (an empty value too) is a configuration error, not "no hold".
  if (raw === undefined) return DEFAULT_ADDRESS_HOLD_SECONDS * 1000;
  const seconds = Number(
    z
      .string()
      .regex(/^\d{1,7}$/)
      .parse(raw),
  );
  if (seconds > 2_592_000) throw new Error('WITHDRAW_ADDRESS_HOLD_SECONDS: at most 30 days');
  return seconds * 1000;
}

/** A broadcast withdrawal with no receipt this long is re-signed with higher fees: ~15 mainnet blocks. */
export const DEFAULT_REPLACE_AFTER_SECONDS = 180;

export interface ReplacementPolicy {
  /** How long the latest transaction of a withdrawal may go without a receipt before it is replaced. */
  replaceAfterMs: number;
  /** The most maxFeePerGas a replacement may offer, wei (none: no ceiling). */
  maxFeePerGas?: bigint;
}

const replacementEnv = z.object({
  // Whole seconds, 1 s to a day; 0 would replace on every run.
  WITHDRAW_REPLACE_AFTER_SECONDS: z
    .string()
    .regex(/^\d{1,5}$/)
    .transform(Number)
    .pipe(z.number().int().min(1).max(86_400))
    // zod 4: the default is the parsed value.
    .default(DEFAULT_REPLACE_AFTER_SECONDS),
  // Gwei, up to 9 decimals (1 wei); positive.
  WITHDRAW_MAX_FEE_PER_GAS_GWEI: z
    .string()
    .regex(/^\d{1,9}(\.\d{1,9})?$/)
    .transform((s) => parseUnits(s, 9))
    .refine((wei) => wei > 0n, 'must be above 0')
    .optional(),
});

/** When and up to which fee the wallet replaces a stuck transaction (WITHDRAW_REPLACE_AFTER_SECONDS, WITHDRAW_MAX_FEE_PER_GAS_GWEI). */
export function replacementPolicy(env: Record<string, string | undefined> = process.env): ReplacementPolicy {
  const parsed = replacementEnv.parse({
    WITHDRAW_REPLACE_AFTER_SECONDS: env.WITHDRAW_REPLACE_AFTER_SECONDS,
    WITHDRAW_MAX_FEE_PER_GAS_GWEI: env.WITHDRAW_MAX_FEE_PER_GAS_GWEI,
  });
  return {
    replaceAfterMs: parsed.WITHDRAW_REPLACE_AFTER_SECONDS * 1000,
    maxFeePerGas: parsed.WITHDRAW_MAX_FEE_PER_GAS_GWEI,
  };
}
