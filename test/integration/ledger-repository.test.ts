// The ledger repository's own paths (lambdas/shared/ledger/repository.ts) on a real PostgreSQL, beyond
// ledger-pg.test.ts: a batch's every kind of settlement operation at once, a record that cannot be settled
// (quarantined alone while the others settle), faults that are not the record's (the batch fails whole and
// changes nothing), amounts refused up front, an overflow that is not an overdraft, and the conservation
// check naming each kind of break. This database is the file's own: the last describe tampers with it.
import { Client, Pool, type PoolClient } from 'pg';
import type { EngineEvent, RejectReason, TradeEvent } from '@engine/core/types';
import { orderProgressFromEvents } from '@lambdas/data-processor/order-view';
import { OrderRepository } from '@lambdas/shared/ledger/order-repository';
import { LedgerRepository, type SettlementItem } from '@lambdas/shared/ledger/repository';
import { migrate } from '@contracts/migrations';
import { MARKETS } from '@contracts/markets';
import { USDT, acceptedBuy, balanceOf, fundedUser } from '../support/ledger-fixtures';
import { startPostgres, type TestPostgres } from '../support/postgres';

const btc = MARKETS.find((m) => m.symbol === 'BTCUSDT')!;
let pg: TestPostgres;
let pool: Pool;
let ledger: LedgerRepository;
let nextOrder = 1_000_000_000;
let nextTrade = 1;
let nextKey = 1;

beforeAll(async () => {
  pg = await startPostgres();
  pool = new Pool({ connectionString: pg.url, max: 10 });
  await migrate(pool);
  ledger = new LedgerRepository(pool);
});

afterAll(async () => {
  await pool?.end();
  await pg?.stop();
});

const BTC_01 = 10_000_000n; // 0.1 BTC

const user = (funds: Record<string, bigint>) => fundedUser(ledger, funds);
const balance = (userId: number, asset: string) => balanceOf(ledger, userId, asset);

async function lock(userId: number, asset: string, amount: bigint): Promise<number> {
  const orderId = nextOrder++;
  const out = await ledger.lockForOrder({
    orderId,
    userId,
    market: 'BTCUSDT',
    asset,
    amount,
    maxOpenOrders: 200,
  });
  expect(out).toBe('locked');
  return orderId;
}

/** An order as the API accepts it (its row, its lock of 300 USDT, its outbox command `p-<id>`). */
const accepted = (userId: number) => acceptedBuy(pool, userId, `c${nextOrder++}`);

/** 0.1 BTC at 30,000 (maker sells); the buyer pays 3,000 USDT, fees 0.1 % maker / 0.1 % taker as ledger-pg. */
function trade(buyOrder: number, buyer: number, sellOrder: number, seller: number, seq = 1): TradeEvent {
  return {
    type: 'trade',
    market: 'BTCUSDT',
    seq,
    ts: 1,
    tradeId: nextTrade++,
    price: 3_000_000,
    quantity: 10_000,
    makerOrderId: sellOrder,
    makerUserId: seller,
    takerOrderId: buyOrder,
    takerUserId: buyer,
    takerSide: 'BUY',
    makerExecutedQty: 10_000,
    takerExecutedQty: 10_000,
    makerCumQuote: 0,
    takerCumQuote: 0,
  };
}

const closed = (orderId: number, userId: number, seq: number): EngineEvent => ({
  type: 'closed',
  market: 'BTCUSDT',
  seq,
  ts: 2,
  orderId,
  userId,
  reason: 'FILLED',
  executedQty: 10_000,
  cumQuote: 30_000_000_000,
});

const rejected = (
  orderId: number,
  userId: number,
  seq: number,
  command: 'place' | 'cancel' | 'amend',
  reason: RejectReason = command === 'place' ? 'STALE_ORDER_ID' : 'UNKNOWN_ORDER',
): EngineEvent => ({ type: 'rejected', market: 'BTCUSDT', seq, ts: 3, command, orderId, userId, reason });

const acceptedEvent = (orderId: number, userId: number, seq: number): EngineEvent => ({
  type: 'accepted',
  market: 'BTCUSDT',
  seq,
  ts: 2,
  orderId,
  userId,
  clientOrderId: `c${orderId}`,
  side: 'BUY',
  orderType: 'LIMIT',
  timeInForce: 'GTC',
  price: 3_000_000,
  quantity: 10_000,
  quoteQuantity: 0,
  stopPrice: 0,
  icebergQuantity: 0,
  stpMode: 'EXPIRE_MAKER',
});

function item(events: EngineEvent[], cmdIds: string[] = []): SettlementItem {
  return {
    key: `k${nextKey++}`,
    market: btc,
    events,
    progress: orderProgressFromEvents(events),
    rejectedOrderIds: events.flatMap((e) => (e.type === 'rejected' ? [e.orderId] : [])),
    cmdIds,
    raw: JSON.stringify({ events }),
  };
}

const orderRow = async (orderId: number) => (await new OrderRepository(pool).get(orderId))!;

const appliedCommands = async (ids: string[]) =>
  (
    await pool.query<{ cmd_id: string }>(
      'SELECT cmd_id FROM outbox WHERE cmd_id = ANY($1) AND applied_at IS NOT NULL ORDER BY cmd_id',
      [ids],
    )
  ).rows.map((r) => r.cmd_id);

describe('users and amounts', () => {
  it('finds a user by email, and no one for an unknown email', async () => {
    const email = `find-${Date.now()}@test`;
    const id = await ledger.createUser(email);
    expect(await ledger.findUserByEmail(email)).toBe(id);
    expect(await ledger.findUserByEmail(`nobody-${Date.now()}@test`)).toBeUndefined();
  });

  it('refuses a zero or negative deposit or lock before touching the ledger', async () => {
    const u = await user({ USDT: USDT(10) });
    for (const amount of [0n, -1n]) {
      await expect(ledger.creditDeposit(u, 'USDT', amount, `zero:${u}`)).rejects.toThrow(
        'deposit amount must be positive',
      );
      await expect(
        ledger.lockForOrder({
          orderId: nextOrder++,
          userId: u,
          market: 'BTCUSDT',
          asset: 'USDT',
          amount,
          maxOpenOrders: 200,
        }),
      ).rejects.toThrow('lock amount must be positive');
    }
    expect(await balance(u, 'USDT')).toEqual({ asset: 'USDT', available: USDT(10), locked: 0n });
    // Nothing was posted under that reference: it is still free.
    expect(await ledger.creditDeposit(u, 'USDT', 1n, `zero:${u}`)).toBe(true);
    const id = await lock(u, 'USDT', 1n);
    const kinds = await pool.query<{ reference: string; kind: string }>(
      'SELECT reference, kind FROM ledger_transactions WHERE reference = ANY($1) ORDER BY reference',
      [[`zero:${u}`, `order:${id}`]],
    );
    expect(kinds.rows).toEqual([
      { reference: `order:${id}`, kind: 'lock' },
      { reference: `zero:${u}`, kind: 'deposit' },
    ]);
  });

  it('a lock that overflows the ledger is an error, not "insufficient balance"; a repeated order id is an error; neither changes anything', async () => {
    const u = await user({ USDT: USDT(10) });
    const huge = 10n ** 40n; // wider than numeric(38,0)
    await expect(
      ledger.lockForOrder({
        orderId: nextOrder++,
        userId: u,
        market: 'BTCUSDT',
        asset: 'USDT',
        amount: huge,
        maxOpenOrders: 200,
      }),
    ).rejects.toMatchObject({ code: '22003' });
    expect(
      await ledger.lockForOrder({
        orderId: nextOrder++,
        userId: u,
        market: 'BTCUSDT',
        asset: 'USDT',
        amount: USDT(11),
        maxOpenOrders: 200,
      }),
    ).toBe('insufficient_balance');
    const id = await lock(u, 'USDT', USDT(4));
    // The same order id again: the ledger posting is already there (skipped), the lock row is a duplicate.
    await expect(
      ledger.lockForOrder({
        orderId: id,
        userId: u,
        market: 'BTCUSDT',
        asset: 'USDT',
        amount: USDT(4),
        maxOpenOrders: 200,
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await balance(u, 'USDT')).toEqual({ asset: 'USDT', available: USDT(6), locked: USDT(4) });
    // The connection went back to the pool usable (no transaction left open on it).
    const c = await pool.connect();
    try {
      expect(
        (await c.query<{ s: string }>("SELECT current_setting('transaction_isolation') AS s")).rows,
      ).toHaveLength(1);
    } finally {
      c.release();
    }
  });
});

describe('settleRecords', () => {
  it('settles every kind of operation of a batch in one go: trade, close, rejected place, rejected cancel, applied commands', async () => {
    const buyer = await user({ USDT: USDT(10_000) });
    const seller = await user({ BTC: 100_000_000n });
    const buyOrder = await lock(buyer, 'USDT', USDT(3010));
    const sellOrder = await lock(seller, 'BTC', BTC_01);
    const p = await accepted(buyer); // never answered: rejected as a stale place
    const q = await accepted(buyer); // cancelled before the engine saw it
    const live = await accepted(buyer); // its command applied, the order left alone

    const result = await ledger.settleRecords([
      item([trade(buyOrder, buyer, sellOrder, seller), closed(buyOrder, buyer, 2)]),
      item([rejected(p, buyer, 3, 'place')], [`p-${p}`]),
      item([rejected(q, buyer, 4, 'cancel')], [`p-${live}`]),
    ]);

    expect(result.quarantined).toEqual([]);
    expect(Object.fromEntries(result.orders.map((o) => [o.orderId, o.status]))).toEqual({
      [p]: 'REJECTED',
      [q]: 'CANCELED',
    });
    expect(await balance(buyer, 'BTC')).toEqual({ asset: 'BTC', available: 9_990_000n, locked: 0n });
    // 10,000 − 3,000 paid; the trade's 10 left over released by the close; p's and q's 300 back; live's held.
    expect(await balance(buyer, 'USDT')).toEqual({
      asset: 'USDT',
      available: USDT(6_700),
      locked: USDT(300),
    });
    expect(await balance(seller, 'USDT')).toEqual({ asset: 'USDT', available: USDT(2_997), locked: 0n });
    expect(await balance(seller, 'BTC')).toEqual({ asset: 'BTC', available: 90_000_000n, locked: 0n });
    expect(await appliedCommands([`p-${p}`, `p-${q}`, `p-${live}`])).toEqual([`p-${live}`, `p-${p}`].sort());
    expect(await ledger.checkConservation()).toMatchObject({ ok: true, problems: [] });
  });

  it('rejections that do not answer an order change nothing, even in the batch that accepts it', async () => {
    const u = await user({ USDT: USDT(1_000) });
    const other = await user({ USDT: USDT(1_000) });
    const live = await accepted(u);
    const waiting = await accepted(u);
    const result = await ledger.settleRecords([
      // Accepted, then someone else's cancel refused, in one batch: the refusal is not the order's answer.
      item([acceptedEvent(live, u, 50), rejected(live, other, 51, 'cancel', 'NOT_ORDER_OWNER')]),
      // An amend of an order whose place has not reached the engine yet: the place still runs later.
      item([rejected(waiting, u, 52, 'amend')]),
    ]);
    expect(result.quarantined).toEqual([]);
    expect(await orderRow(live)).toMatchObject({ status: 'NEW' });
    expect(await orderRow(waiting)).toMatchObject({ status: 'NEW', lastSeq: 0 });
    expect(await balance(u, 'USDT')).toEqual({ asset: 'USDT', available: USDT(400), locked: USDT(600) });
  });

  it('quarantines the record that cannot be settled, settles the others once, and keeps it until replayed', async () => {
    const buyer = await user({ USDT: USDT(10_000) });
    const seller = await user({ BTC: 100_000_000n });
    const buyOrder = await lock(buyer, 'USDT', USDT(3010));
    const sellOrder = await lock(seller, 'BTC', BTC_01);
    // Locks far too small for a trade: settling it would drive them below zero.
    const poorBuy = await lock(buyer, 'USDT', 1n);
    const poorSell = await lock(seller, 'BTC', 1n);
    const rejectedLater = await accepted(buyer);

    const good = item([trade(buyOrder, buyer, sellOrder, seller)]);
    const bad = item([trade(poorBuy, buyer, poorSell, seller)]);
    const after = item([rejected(rejectedLater, buyer, 9, 'place')]);
    const result = await ledger.settleRecords([good, bad, after]);

    expect(result.quarantined).toEqual([
      { key: bad.key, market: 'BTCUSDT', error: expect.stringContaining('violates check constraint') },
    ]);
    expect(result.orders.map((o) => [o.orderId, o.status])).toEqual([[rejectedLater, 'REJECTED']]);
    expect(await balance(buyer, 'BTC')).toEqual({ asset: 'BTC', available: 9_990_000n, locked: 0n });
    expect(await balance(buyer, 'USDT')).toEqual({
      asset: 'USDT',
      available: USDT(10_000 - 3_010) - 1n,
      locked: USDT(10) + 1n, // the good trade's leftover and the poor lock, both still open
    });

    // Committed: another connection sees the records that settled.
    const other = new Client({ connectionString: pg.url });
    await other.connect();
    try {
      const seen = await other.query<{ available: string }>(
        "SELECT available FROM accounts WHERE owner = $1 AND asset = 'BTC'",
        [`user:${buyer}`],
      );
      expect(seen.rows).toEqual([{ available: '9990000' }]);
    } finally {
      await other.end();
    }

    // The whole batch again (a Lambda retry): nothing applied twice, the record quarantined once.
    const again = await ledger.settleRecords([good, bad, after]);
    expect(again.quarantined.map((x) => x.key)).toEqual([bad.key]);
    expect(await balance(buyer, 'BTC')).toEqual({ asset: 'BTC', available: 9_990_000n, locked: 0n });

    await ledger.quarantine(`undecodable-${nextKey}`, 'ETHUSDT', 'not json', 'cannot decode');
    const held = await ledger.quarantinedRecords();
    expect(held.slice(-2)).toEqual([
      {
        id: expect.any(Number),
        key: bad.key,
        market: 'BTCUSDT',
        record: bad.raw,
        error: result.quarantined[0].error,
      },
      {
        id: expect.any(Number),
        key: `undecodable-${nextKey}`,
        market: 'ETHUSDT',
        record: 'not json',
        error: 'cannot decode',
      },
    ]);
    expect(held.filter((r) => r.key === bad.key)).toHaveLength(1);
    await ledger.markReplayed(held[held.length - 2].id);
    expect((await ledger.quarantinedRecords()).map((r) => r.key)).not.toContain(bad.key);
    expect((await ledger.quarantinedRecords()).map((r) => r.key)).toContain(`undecodable-${nextKey}`);
  });
});

describe('faults that are not the record', () => {
  /** The real pool, with errors injected into settle_batch calls (whole batch, or per record on one client). */
  function faultyPool(faults: { batch?: unknown; perRecord?: (n: number) => unknown }): Pool {
    const fail = (err: unknown) => Promise.reject(err);
    return {
      query: (text: string, params?: unknown[]) =>
        faults.batch !== undefined && text.includes('settle_batch')
          ? fail(faults.batch)
          : pool.query(text, params),
      connect: async () => {
        const c = await pool.connect();
        let n = 0;
        return new Proxy(c, {
          get(target, prop) {
            if (prop === 'query')
              return (text: string, params?: unknown[]) => {
                if (text.includes('settle_batch')) {
                  const err = faults.perRecord?.(++n);
                  if (err !== undefined) return fail(err);
                }
                return target.query(text, params);
              };
            const v = (target as unknown as Record<string | symbol, unknown>)[prop];
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          },
        }) as PoolClient;
      },
    } as unknown as Pool;
  }
  const pgError = (code?: string) =>
    Object.assign(new Error(`injected ${code ?? 'no code'}`), code ? { code } : {});

  async function tradeBatch() {
    const buyer = await user({ USDT: USDT(10_000) });
    const seller = await user({ BTC: 100_000_000n });
    const items = [
      item([trade(await lock(buyer, 'USDT', USDT(3010)), buyer, await lock(seller, 'BTC', BTC_01), seller)]),
      item([trade(await lock(buyer, 'USDT', USDT(3010)), buyer, await lock(seller, 'BTC', BTC_01), seller)]),
    ];
    return { buyer, items };
  }

  it.each([
    ['a connection failure (08006)', pgError('08006')],
    ['a serialization failure (40001)', pgError('40001')],
    ['an error without a code', pgError()],
    ['a code that only ends like a data error (XX022)', pgError('XX022')],
  ])('the whole batch fails on %s, nothing settled or quarantined', async (_name, err) => {
    const { buyer, items } = await tradeBatch();
    const quarantinedBefore = (await ledger.quarantinedRecords()).length;
    await expect(new LedgerRepository(faultyPool({ batch: err })).settleRecords(items)).rejects.toBe(err);
    expect(await balance(buyer, 'BTC')).toEqual({ asset: 'BTC', available: 0n, locked: 0n });
    expect(await ledger.quarantinedRecords()).toHaveLength(quarantinedBefore);
  });

  it.each([
    ['22003', 'a data error'],
    ['23514', 'an integrity error'],
  ])('a batch refused with %s (%s) is redone record by record: here every record settles', async (code) => {
    const { buyer, items } = await tradeBatch();
    const result = await new LedgerRepository(faultyPool({ batch: pgError(code) })).settleRecords(items);
    expect(result.quarantined).toEqual([]);
    expect(await balance(buyer, 'BTC')).toEqual({ asset: 'BTC', available: 2n * 9_990_000n, locked: 0n });
  });

  it('a connection failure while redoing record by record rolls back the records already settled', async () => {
    const { buyer, items } = await tradeBatch();
    const err = pgError('08006');
    const faulty = faultyPool({ batch: pgError('23514'), perRecord: (n) => (n === 2 ? err : undefined) });
    await expect(new LedgerRepository(faulty).settleRecords(items)).rejects.toBe(err);
    expect(await balance(buyer, 'BTC')).toEqual({ asset: 'BTC', available: 0n, locked: 0n });
    expect((await ledger.quarantinedRecords()).map((r) => r.key)).not.toContain(items[0].key);
    // The same batch on a healthy pool then settles both.
    await ledger.settleRecords(items);
    expect(await balance(buyer, 'BTC')).toEqual({ asset: 'BTC', available: 2n * 9_990_000n, locked: 0n });
  });
});

// Last: each case breaks the ledger on purpose, checks the problem named, and repairs it.
describe('checkConservation names each kind of break', () => {
  let u: number;
  let lockId: number;
  beforeAll(async () => {
    u = await user({ USDT: USDT(100) });
    lockId = await lock(u, 'USDT', USDT(40));
    expect(await ledger.checkConservation()).toMatchObject({ ok: true, problems: [] });
  });
  afterEach(async () => {
    expect(await ledger.checkConservation()).toMatchObject({ ok: true, problems: [] });
  });

  const usdt = async () => (await ledger.checkConservation()).assets.find((a) => a.asset === 'USDT')!;

  it('a balance that no deposit explains', async () => {
    const before = await usdt();
    expect(before.held).toBe(before.netDeposits);
    expect(before.lockedByUsers).toBe(before.lockedByOrders);
    await pool.query("UPDATE accounts SET available = available + 1 WHERE owner = $1 AND asset = 'USDT'", [
      `user:${u}`,
    ]);
    const report = await ledger.checkConservation();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      `USDT: balances ${before.held + 1n} ≠ deposits − withdrawals ${before.netDeposits}`,
    ]);
    expect(report.assets.find((a) => a.asset === 'USDT')).toEqual({ ...before, held: before.held + 1n });
    await pool.query("UPDATE accounts SET available = available - 1 WHERE owner = $1 AND asset = 'USDT'", [
      `user:${u}`,
    ]);
  });

  it('locked funds no open order or withdrawal explains', async () => {
    const before = await usdt();
    await pool.query('UPDATE order_locks SET remaining = remaining + 5 WHERE order_id = $1', [lockId]);
    const report = await ledger.checkConservation();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      `USDT: locked ${before.lockedByUsers} ≠ open order locks and withdrawals in flight ${before.lockedByOrders + 5n}`,
    ]);
    await pool.query('UPDATE order_locks SET remaining = remaining - 5 WHERE order_id = $1', [lockId]);
  });

  it('a negative balance (its check constraint dropped for the test)', async () => {
    const name = (
      await pool.query<{ conname: string; def: string }>(
        "SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'accounts'::regclass AND contype = 'c'",
      )
    ).rows.find((r) => r.def.includes('available'))!;
    await pool.query(`ALTER TABLE accounts DROP CONSTRAINT ${name.conname}`);
    // Moves `amount` from the user to the fee account (back with a negative amount): sums still hold.
    const toFees = async (amount: bigint) => {
      await pool.query("UPDATE accounts SET available = available - $2 WHERE owner = $1 AND asset = 'USDT'", [
        `user:${u}`,
        amount.toString(),
      ]);
      await pool.query(
        "INSERT INTO accounts (owner, asset, available) VALUES ('system:fee', 'USDT', $1) ON CONFLICT (owner, asset) DO UPDATE SET available = accounts.available + $1",
        [amount.toString()],
      );
    };
    try {
      // 200 USDT away from a user who holds 100: one balance below zero.
      await toFees(USDT(200));
      const report = await ledger.checkConservation();
      expect(report.ok).toBe(false);
      expect(report.problems).toEqual(['USDT: 1 negative balances']);
    } finally {
      await toFees(-USDT(200));
      await pool.query(`ALTER TABLE accounts ADD CONSTRAINT ${name.conname} ${name.def}`);
    }
  });

  it('a ledger transaction whose entries do not sum to zero', async () => {
    const tx = await pool.query<{ id: string }>('SELECT id FROM ledger_transactions ORDER BY id LIMIT 1');
    const account = await pool.query<{ id: string }>(
      "SELECT id FROM accounts WHERE owner = $1 AND asset = 'USDT'",
      [`user:${u}`],
    );
    const entry = await pool.query<{ id: string }>(
      "INSERT INTO ledger_entries (tx_id, account_id, asset, bucket, amount) VALUES ($1, $2, 'USDT', 'available', 7) RETURNING id",
      [tx.rows[0].id, account.rows[0].id],
    );
    try {
      const report = await ledger.checkConservation();
      expect(report.ok).toBe(false);
      expect(report.problems).toEqual(['1 ledger transactions do not sum to zero']);
    } finally {
      await pool.query('DELETE FROM ledger_entries WHERE id = $1', [entry.rows[0].id]);
    }
  });
});
