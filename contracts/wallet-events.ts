// The wallet-event stream's record (contracts/resources.ts WALLET_EVENT_STREAM): one change of one user's
// balance in one asset by a ledger transaction that is not a trade, as the outbox relay publishes it from the
// ledger's `balance_events` rows (docs/wallets.md#balance-events). Amounts are minor units as decimal strings.
import { z } from 'zod';

const minorUnits = z.string().regex(/^-?\d{1,38}$/);

export const balanceEventSchema = z.object({
  /** The `balance_events` row: unique, so a record published twice is recognised. */
  id: z.number().int().positive(),
  userId: z.number().int().positive(),
  asset: z.string().min(1).max(20),
  /** Change of the user's available balance (0 when only the locked part moved, e.g. a withdrawal sent). */
  delta: minorUnits,
  /** The ledger transaction's kind (`deposit`, `withdraw-lock`, `withdraw`, `withdraw-release`). */
  kind: z.string().min(1).max(40),
  reference: z.string().min(1).max(200),
  /** When the ledger transaction committed (ms). */
  time: z.number().int().nonnegative(),
});
export type BalanceEvent = z.infer<typeof balanceEventSchema>;

export const encodeBalanceEvent = (e: BalanceEvent): Uint8Array =>
  new TextEncoder().encode(JSON.stringify({ balance: e }));

/** Throws unless the bytes are a wallet-event record. */
export function decodeBalanceEvent(data: Uint8Array): BalanceEvent {
  const parsed = z.object({ balance: balanceEventSchema }).parse(JSON.parse(new TextDecoder().decode(data)));
  return parsed.balance;
}

/** Partition key: one user's events stay in order on one shard. */
export const balanceEventPartitionKey = (userId: number): string => `user:${userId}`;
