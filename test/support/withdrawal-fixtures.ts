// A withdrawal moved through the ledger directly (no chain, no API), for suites that need its balance events
// or documents: requested to an allowlisted address on a network no hot wallet sends on (so the release is
// the test's, never the chain's), then signed and failed, which releases its lock. Amounts in ledger units.
import type { Pool } from 'pg';
import { WithdrawalRepository } from '@lambdas/shared/ledger/withdrawals';

/** No wallet run sends on it: `npm start`'s sender opens ETH only. */
export const TEST_NETWORK = 'TESTNET';

/** Requests a withdrawal of `amount` + `fee` of `coin`; returns its id. */
export async function requestWithdrawal(
  pool: Pool,
  userId: number,
  w: { coin: string; amount: bigint; fee: bigint },
): Promise<number> {
  const address = '0x' + userId.toString(16).padStart(40, '0');
  await pool.query(
    `INSERT INTO withdraw_addresses (user_id, coin, network, address, added_ms, usable_ms)
     VALUES ($1, $2, $3, $4, 0, 0) ON CONFLICT DO NOTHING`,
    [userId, w.coin, TEST_NETWORK, address],
  );
  const applied = await new WithdrawalRepository(pool).apply({
    userId,
    coin: w.coin,
    network: TEST_NETWORK,
    address,
    amount: w.amount,
    fee: w.fee,
    chainAmount: w.amount,
    dailyLimit: (w.amount + w.fee) * 100n,
    globalDailyLimit: (w.amount + w.fee) * 100n,
    nowMs: Date.now(),
  });
  if (!('id' in applied)) throw new Error(`withdrawal refused: ${applied.refused}`);
  return applied.id;
}

/** Signs (a stand-in transaction) and fails the withdrawal: its lock goes back to the user. */
export async function failWithdrawal(pool: Pool, id: number): Promise<void> {
  const withdrawals = new WithdrawalRepository(pool);
  const hash = '0x' + id.toString(16).padStart(64, '0');
  const tx = {
    nonce: 0,
    hash,
    raw: '0x00',
    maxFeePerGas: 1n,
    maxPriorityFeePerGas: 1n,
    signedMs: Date.now(),
  };
  if (!(await withdrawals.markSigned(id, tx))) throw new Error(`withdrawal ${id} not pending`);
  if (!(await withdrawals.fail(id, hash, Date.now()))) throw new Error(`withdrawal ${id} not failed`);
}
