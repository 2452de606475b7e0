// Fixtures of the suites that run the ledger on a real PostgreSQL (ledger-pg, ledger-repository): amounts in
// ledger units, a funded user, one of their balances, and a BTCUSDT buy accepted as the order API accepts it.
import type { Pool } from 'pg';
import { OrderRepository } from '@lambdas/shared/ledger/order-repository';
import type { Balance, LedgerRepository } from '@lambdas/shared/ledger/repository';
import { orderRecord } from './order-record';

/** n USDT in ledger units (8 decimals). */
export const USDT = (n: number): bigint => BigInt(n) * 100_000_000n;

/** A new user holding `funds` (ledger units per asset), each credited as a deposit. */
export async function fundedUser(ledger: LedgerRepository, funds: Record<string, bigint>): Promise<number> {
  const id = await ledger.createUser(`u${Date.now()}-${Math.random()}@test`);
  for (const [asset, amount] of Object.entries(funds))
    await ledger.creditDeposit(id, asset, amount, `dep:${id}:${asset}`);
  return id;
}

export const balanceOf = async (ledger: LedgerRepository, userId: number, asset: string): Promise<Balance> =>
  (await ledger.getBalances(userId)).find((b) => b.asset === asset)!;

/**
 * A BTCUSDT GTC buy of 0.1 BTC accepted through `accept_order`, as the order API does: its row, its lock of
 * 300 USDT and its outbox command `p-<orderId>`. Returns the order id.
 */
export async function acceptedBuy(pool: Pool, userId: number, clientOrderId: string): Promise<number> {
  const res = await new OrderRepository(pool).accept({
    order: (({ orderId: _id, ...row }) => row)(
      orderRecord({ userId, clientOrderId, qtyLots: 10_000, lockAmount: USDT(300).toString() }),
    ),
    command: { kind: 'place', market: 'BTCUSDT', side: 'BUY', type: 'LIMIT', userId, clientOrderId, ts: 1 },
    groupId: 'BTCUSDT-0',
    maxOpenOrders: 200,
    orderLimits: { per10s: 100, perDay: 200_000 },
    nowMs: Date.now(),
  });
  if (res.outcome !== 'accepted') throw new Error(res.outcome);
  return res.order.orderId;
}
