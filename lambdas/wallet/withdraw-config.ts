// Withdrawal limits and fees per coin (docs/wallets.md#withdrawals), in decimal strings, read from the
// environment (WITHDRAW_FEES, WITHDRAW_DAILY_LIMITS, WITHDRAW_GLOBAL_DAILY_LIMITS as JSON {"ETH":"0.001"};
// WITHDRAW_ADDRESS_HOLD_SECONDS): configuration, not secrets.
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
