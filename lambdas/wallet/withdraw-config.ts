// Withdrawal limits and fees per coin (docs/wallets.md#withdrawals), in decimal strings, read from the
// environment (WITHDRAW_FEES, WITHDRAW_DAILY_LIMITS as JSON {"ETH":"0.001"}): configuration, not secrets.
import { z } from 'zod';
import { parseUnits } from '../shared/money';

const DEFAULT_FEES: Record<string, string> = { ETH: '0.0005', USDT: '1' };
const DEFAULT_DAILY_LIMITS: Record<string, string> = { ETH: '100', USDT: '200000' };

const decimals = z.record(z.string(), z.string().regex(/^\d{1,20}(\.\d{1,18})?$/));
const fromEnv = (raw: string | undefined, fallback: Record<string, string>) =>
  raw ? decimals.parse(JSON.parse(raw)) : fallback;

export interface WithdrawRules {
  /** Network fee charged to the user, ledger units. */
  fee: bigint;
  /** Most withdrawn (amount + fee) per user in 24 h, ledger units. */
  dailyLimit: bigint;
}

/** The rules for `coin` at ledger scale `scale`, or undefined when the coin cannot be withdrawn. */
export function withdrawRules(
  coin: string,
  scale: number,
  env: Record<string, string | undefined> = process.env,
): WithdrawRules | undefined {
  const fee = fromEnv(env.WITHDRAW_FEES, DEFAULT_FEES)[coin];
  const limit = fromEnv(env.WITHDRAW_DAILY_LIMITS, DEFAULT_DAILY_LIMITS)[coin];
  if (fee === undefined || limit === undefined) return undefined;
  return { fee: parseUnits(fee, scale), dailyLimit: parseUnits(limit, scale) };
}
