// The ledger's balance events on a real PostgreSQL (contracts/migrations.ts migration 12, lambdas/shared/
// outbox/balance-events.ts): ledger_post records one per user and asset for deposits and withdrawals, in the
// posting's own transaction, and none for orders or trades; the relay publishes them oldest first, marks only
// what the stream took, keeps the rest for the next pass, and prunes what it published long ago.
import { Pool } from 'pg';
import { migrate } from '@contracts/migrations';
import type { BalanceEvent } from '@contracts/wallet-events';
import { BalanceEventRelay, type BalanceEventSink } from '@lambdas/shared/outbox/balance-events';
import { LedgerRepository } from '@lambdas/shared/ledger/repository';
import { lockPostings } from '@lambdas/shared/ledger/postings';
import { USDT, fundedUser } from '../support/ledger-fixtures';
import { startPostgres, type TestPostgres } from '../support/postgres';

let pg: TestPostgres;
let pool: Pool;
let ledger: LedgerRepository;

beforeAll(async () => {
  pg = await startPostgres();
  pool = new Pool({ connectionString: pg.url, max: 4 });
  await migrate(pool);
  ledger = new LedgerRepository(pool);
});

afterAll(async () => {
  await pool?.end();
  await pg?.stop();
});

beforeEach(async () => {
  await pool.query('DELETE FROM balance_events');
});

/** A sink that records what it was given and accepts `accept(event)` of them (all by default). */
function sink(
  accept: (e: BalanceEvent) => boolean = () => true,
): BalanceEventSink & { got: BalanceEvent[][] } {
  const got: BalanceEvent[][] = [];
  return {
    got,
    async put(events) {
      got.push(events);
      return events.filter(accept).map((e) => e.id);
    },
  };
}

const post = (kind: string, reference: string, postings: unknown) =>
  pool.query('SELECT ledger_post($1, $2, $3)', [
    kind,
    reference,
    JSON.stringify(postings, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
  ]);

const events = async () =>
  (
    await pool.query<{
      user_id: string;
      asset: string;
      delta: string;
      kind: string;
      published_at: Date | null;
    }>('SELECT user_id, asset, delta, kind, published_at FROM balance_events ORDER BY id')
  ).rows;

describe('balance events', () => {
  it('records deposits and withdrawal postings per user and asset, and nothing for order locks or trades', async () => {
    const carol = await fundedUser(ledger, { USDT: USDT(100) });
    await post('withdraw-lock', 'withdrawal:t1', lockPostings(carol, 'USDT', USDT(11)));
    await post('withdraw-release', 'withdrawal:t1', lockPostings(carol, 'USDT', -USDT(11)));
    await post('withdraw', 'withdrawal:t2', [
      { owner: `user:${carol}`, asset: 'USDT', bucket: 'locked', amount: 0n },
      { owner: 'system:external', asset: 'USDT', bucket: 'available', amount: 0n },
    ]);
    // An order's lock and its release: the order's own events (executionReport) carry those.
    await post('lock', 'order:t3', lockPostings(carol, 'USDT', USDT(5)));
    await post('unlock', 'order:t3', lockPostings(carol, 'USDT', -USDT(5)));
    expect((await events()).map((e) => [Number(e.user_id), e.asset, e.delta, e.kind])).toEqual([
      [carol, 'USDT', USDT(100).toString(), 'deposit'],
      [carol, 'USDT', (-USDT(11)).toString(), 'withdraw-lock'],
      [carol, 'USDT', USDT(11).toString(), 'withdraw-release'],
      [carol, 'USDT', '0', 'withdraw'],
    ]);
  });

  it('records nothing when the posting is refused or a repeat', async () => {
    const carol = await fundedUser(ledger, { USDT: USDT(1) });
    await pool.query('DELETE FROM balance_events');
    // A repeat of the deposit's reference posts nothing and records nothing.
    expect(await ledger.creditDeposit(carol, 'USDT', USDT(1), `dep:${carol}:USDT`)).toBe(false);
    // An overdraft rolls back with its event.
    await expect(
      post('withdraw-lock', 'withdrawal:t9', lockPostings(carol, 'USDT', USDT(2))),
    ).rejects.toThrow();
    expect(await events()).toEqual([]);
  });

  it('publishes oldest first, marks what the stream took and keeps the rest for the next pass', async () => {
    const a = await fundedUser(ledger, { USDT: USDT(1), BTC: 5n });
    const b = await fundedUser(ledger, { USDT: USDT(2) });
    const refuseBtc = sink((e) => e.asset !== 'BTC');
    const relay = new BalanceEventRelay(pool, refuseBtc);
    expect(await relay.publishDue()).toEqual({ published: 2, failed: 1 });
    expect(refuseBtc.got[0].map((e) => [e.userId, e.asset, e.delta, e.kind])).toEqual([
      [a, 'USDT', USDT(1).toString(), 'deposit'],
      [a, 'BTC', '5', 'deposit'],
      [b, 'USDT', USDT(2).toString(), 'deposit'],
    ]);
    expect(
      refuseBtc.got[0].every((e) => e.time > Date.now() - 60_000 && e.reference.startsWith('dep:')),
    ).toBe(true);
    // The refused one, and only it, is offered again.
    const all = sink();
    const again = new BalanceEventRelay(pool, all);
    expect(await again.publishDue()).toEqual({ published: 1, failed: 0 });
    expect(all.got[0].map((e) => e.asset)).toEqual(['BTC']);
    expect(await again.publishDue()).toEqual({ published: 0, failed: 0 });
    expect((await events()).every((e) => e.published_at !== null)).toBe(true);
  });

  it('marks nothing when the stream fails, and prunes only rows published long enough ago', async () => {
    await fundedUser(ledger, { USDT: USDT(1) });
    const failing: BalanceEventSink = {
      put: async () => {
        throw new Error('ProvisionedThroughputExceededException');
      },
    };
    expect(await new BalanceEventRelay(pool, failing).publishDue()).toEqual({ published: 0, failed: 1 });
    expect((await events())[0].published_at).toBeNull();
    const relay = new BalanceEventRelay(pool, sink());
    await relay.cleanup(0);
    expect(await events()).toHaveLength(1); // unpublished: kept
    await relay.publishDue();
    await relay.cleanup(60_000);
    expect(await events()).toHaveLength(1); // published just now: kept
    await relay.cleanup(0);
    expect(await events()).toEqual([]);
  });
});
