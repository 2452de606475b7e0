// The amend history (GET /api/v3/order/amendments, docs/api.md#amend-keep-priority; migration 22) as the data
// processor settles it, on a real PostgreSQL: one row per amend the engine answered, with that answer's seq
// as its execution id, its own quantities and time, however the answers are batched (two in one batch, two
// in one record, record by record around a quarantined one), none twice on a redelivered or overlapping
// batch, one per leg of an OCO pair; MAX_NUM_ORDER_AMENDS counts them. Orders and amends go through the
// order API's services as the API's login; the real matching engine answers them; its records are settled
// as Kinesis batches by processKinesisBatch with the data processor's login.
import type { KinesisStreamEvent } from 'aws-lambda';
import { MatchingEngine, rulesFromSpec } from '@engine/core';
import type { AmendedEvent, EngineEvent } from '@engine/core/types';
import type { CommandMessage, EventRecord } from '@contracts/messages';
import { MARKETS } from '@contracts/markets';
import { processKinesisBatch } from '@lambdas/data-processor/handler';
import { OrderListService } from '@lambdas/api/orders/list-service';
import { AnswerWaiter, commandApplied, waitForAmendAnswer } from '@lambdas/api/orders/answer-waiter';
import { OrderService, type AmendIo } from '@lambdas/api/orders/order-service';
import { OrderListRepository } from '@lambdas/shared/ledger/order-list-repository';
import { OrderRepository, type OutboxMessage } from '@lambdas/shared/ledger/order-repository';
import { LedgerRepository } from '@lambdas/shared/ledger/repository';
import type { OrderRecord } from '@lambdas/shared/stores/orders';
import { batch } from '../support/kinesis-batch';
import { USDT, balanceOf, fundedUser } from '../support/ledger-fixtures';
import { startRolePools, type RolePools } from '../support/role-pools';

const btc = MARKETS.find((m) => m.symbol === 'BTCUSDT')!;
const markets = new Map(MARKETS.map((m) => [m.symbol, m]));
const BTC = (n: number) => BigInt(Math.round(n * 1e5)) * 1000n; // 8 decimals, n with ≤ 5 places

let db: RolePools;
let owner: LedgerRepository;
let orders: OrderService;
let lists: OrderListService;
const engine = new MatchingEngine([rulesFromSpec(btc)]);
/** The engine's records not yet settled, in stream order (one per command, as the engine service writes them). */
let stream: EventRecord[] = [];
let now = 1_700_000_000_000;
let sequenceNumber = 0;

/** The engine applies what the order API sends, at once. */
async function send(messages: OutboxMessage[]): Promise<void> {
  for (const m of messages) {
    const { cmdId, command } = JSON.parse(m.body) as CommandMessage;
    const events: EngineEvent[] = [];
    engine.apply(command, events);
    const seqs = events.map((e) => e.seq);
    stream.push({
      v: 1,
      market: m.market,
      commands: [{ cmdId, command, firstSeq: Math.min(...seqs), lastSeq: Math.max(...seqs) }],
      events,
    });
  }
}

/** The engine's records so far, taken off the stream. */
function drain(): EventRecord[] {
  const out = stream;
  stream = [];
  return out;
}

/** A Kinesis batch of `records` with sequence numbers of their own (delivering the same object again is a redelivery). */
function kinesisBatch(records: EventRecord[]): KinesisStreamEvent {
  const out = batch(records, sequenceNumber + 1, 'amend-history-');
  sequenceNumber += records.length;
  return out;
}

/** The data processor's settlement of one batch, as its own login. */
async function settle(batch: KinesisStreamEvent): Promise<number> {
  const res = await processKinesisBatch(batch, {
    markets,
    settlement: new LedgerRepository(db.as.cirrus_processor),
    quarantineUndecodable: async () => {
      throw new Error('every record here decodes');
    },
  });
  expect(res.batchItemFailures).toEqual([]);
  return res.quarantined;
}

/** The amend answer is settled later, in the batch under test: the request goes on at once. */
const noWait: AmendIo = {
  waitAnswer: async (o, newLots, cmdId) => {
    amendCmds.push({ cmdId, newLots });
    return { order: o, executionId: 0 };
  },
};
/** The amend commands sent, in order (cmdId and new quantity in lots). */
let amendCmds: Array<{ cmdId: string; newLots: number }> = [];

const amend = (userId: number, orderId: number, newQty: string) =>
  orders.amendKeepPriority(userId, { symbol: 'BTCUSDT', orderId, newQty }, noWait);

/** What the REST request of an amend command would answer, read as the API reads it once settled. */
const answerTo = (order: OrderRecord, cmd: { cmdId: string; newLots: number }) => {
  const repo = new OrderRepository(db.as.cirrus_api);
  return waitForAmendAnswer(
    {
      answers: new AnswerWaiter(repo),
      amendmentOf: (orderId, cmdId) => repo.amendmentOf(orderId, cmdId),
      order: (orderId) => repo.get(orderId),
      applied: (cmdId) => commandApplied(db.as.cirrus_api, cmdId),
    },
    order,
    cmd.newLots,
    cmd.cmdId,
    1_000,
  );
};

const history = (orderId: number) => new OrderRepository(db.as.cirrus_api).amendments(orderId);

/** An order's amendments as [executionId, origQty, newQty, time] (lots, engine ms). */
const historyOf = async (orderId: number) =>
  (await history(orderId)).map((r) => [r.executionId, r.origQtyLots, r.newQtyLots, r.time]);

const amendedEvents = (records: EventRecord[]) =>
  records.flatMap((r) => r.events.filter((e): e is AmendedEvent => e.type === 'amended'));

/** A resting BUY of 0.1 BTC at 30,000 (10,000 lots at 3,000,000 ticks; 3,000 USDT locked), settled. */
async function restingBuy(): Promise<{ userId: number; orderId: number; clientOrderId: string }> {
  const userId = await fundedUser(owner, { USDT: USDT(10_000) });
  const placed = await orders.place(userId, {
    symbol: 'BTCUSDT',
    side: 'BUY',
    type: 'LIMIT',
    timeInForce: 'GTC',
    quantity: '0.1',
    price: '30000',
  });
  expect(await settle(kinesisBatch(drain()))).toBe(0);
  return { userId, orderId: placed.orderId, clientOrderId: placed.clientOrderId };
}

beforeAll(async () => {
  db = await startRolePools();
  owner = new LedgerRepository(db.owner);
  const api = db.as.cirrus_api;
  const common = {
    markets,
    sender: { send },
    book: { bestPrices: async () => ({}) },
    clock: () => (now += 1_000),
  };
  orders = new OrderService({ ...common, orders: new OrderRepository(api) });
  lists = new OrderListService({ ...common, lists: new OrderListRepository(api) });
});

afterAll(async () => {
  await db?.stop();
});

describe('amend history', () => {
  it('two amends of one order settled in one batch are two rows; a redelivered batch adds none', async () => {
    const { userId, orderId, clientOrderId } = await restingBuy();
    amendCmds = [];
    const placed = await amend(userId, orderId, '0.08');
    await amend(userId, orderId, '0.05');
    const records = drain();
    expect(records).toHaveLength(2);
    const [first, second] = amendedEvents(records);
    expect([first.orderId, first.quantity, second.orderId, second.quantity]).toEqual([
      orderId,
      8_000,
      orderId,
      5_000,
    ]);
    expect(second.ts).toBeGreaterThan(first.ts);

    const batch = kinesisBatch(records);
    expect(await settle(batch)).toBe(0);
    const rows = [
      {
        executionId: first.seq,
        clientOrderId,
        origQtyLots: 10_000,
        newQtyLots: 8_000,
        time: first.ts,
      },
      {
        executionId: second.seq,
        clientOrderId,
        origQtyLots: 8_000,
        newQtyLots: 5_000,
        time: second.ts,
      },
    ];
    expect(await history(orderId)).toEqual(rows);
    // Each request finds its own answer, though the order row shows only the last (0.05): the first is not
    // refused, and each answers its own execution id.
    expect(amendCmds.map((c) => c.newLots)).toEqual([8_000, 5_000]);
    const answers = await Promise.all(amendCmds.map((c) => answerTo(placed, c)));
    expect(answers.map((a) => a?.executionId)).toEqual([first.seq, second.seq]);
    expect(answers.map((a) => a?.order.qtyLots)).toEqual([5_000, 5_000]);
    // The lock follows the order: 0.05 BTC × 30,000 still locked, the rest released once.
    expect(await balanceOf(owner, userId, 'USDT')).toMatchObject({
      available: USDT(8_500),
      locked: USDT(1_500),
    });

    expect(await settle(batch)).toBe(0);
    expect(await history(orderId)).toEqual(rows);
    expect(await balanceOf(owner, userId, 'USDT')).toMatchObject({ locked: USDT(1_500) });
    expect((await owner.checkConservation()).problems).toEqual([]);
  });

  it('two amends in one record are two rows', async () => {
    const { userId, orderId } = await restingBuy();
    await amend(userId, orderId, '0.07');
    await amend(userId, orderId, '0.06');
    const [a, b] = drain();
    const one: EventRecord = {
      ...a,
      commands: [...a.commands, ...b.commands],
      events: [...a.events, ...b.events],
    };
    const [first, second] = amendedEvents([one]);
    const batch = kinesisBatch([one]);
    expect(await settle(batch)).toBe(0);
    expect(await settle(batch)).toBe(0);
    expect(await historyOf(orderId)).toEqual([
      [first.seq, 10_000, 7_000, first.ts],
      [second.seq, 7_000, 6_000, second.ts],
    ]);
  });

  it('an overlapping redelivery records only the amend not settled yet, from the quantity the other left', async () => {
    const { userId, orderId } = await restingBuy();
    await amend(userId, orderId, '0.09');
    const [earlier] = drain();
    expect(await settle(kinesisBatch([earlier]))).toBe(0);
    await amend(userId, orderId, '0.04');
    const [later] = drain();
    // The first batch committed but was not checkpointed (say the function timed out after its commit):
    // Lambda delivers its record again, now with the next one.
    expect(await settle(kinesisBatch([earlier, later]))).toBe(0);
    const [first, second] = amendedEvents([earlier, later]);
    expect(await historyOf(orderId)).toEqual([
      [first.seq, 10_000, 9_000, first.ts],
      [second.seq, 9_000, 4_000, second.ts],
    ]);
    expect(await balanceOf(owner, userId, 'USDT')).toMatchObject({ locked: USDT(1_200) });
  });

  it('settled record by record around a quarantined record, each amend is still one row', async () => {
    const { userId, orderId } = await restingBuy();
    await amend(userId, orderId, '0.08');
    const [a] = drain();
    await amend(userId, orderId, '0.03');
    const [b] = drain();
    // Between them a record the ledger refuses (a trade of orders that lock nothing): the batch is redone
    // record by record, each amend in a settle_batch call of its own, and that record is quarantined.
    const bad: EventRecord = {
      v: 1,
      market: 'BTCUSDT',
      commands: [],
      events: [
        {
          type: 'trade',
          market: 'BTCUSDT',
          seq: a.events[a.events.length - 1].seq,
          ts: now,
          tradeId: 9_000_000,
          price: 3_000_000,
          quantity: 1,
          makerOrderId: 9_000_001,
          makerUserId: userId,
          takerOrderId: 9_000_002,
          takerUserId: userId,
          takerSide: 'SELL',
          makerExecutedQty: 1,
          takerExecutedQty: 1,
          makerCumQuote: 3_000_000,
          takerCumQuote: 3_000_000,
        },
      ],
    };
    const batch = kinesisBatch([a, bad, b]);
    expect(await settle(batch)).toBe(1);
    const [first, second] = amendedEvents([a, b]);
    const rows = [
      [first.seq, 10_000, 8_000, first.ts],
      [second.seq, 8_000, 3_000, second.ts],
    ];
    expect(await historyOf(orderId)).toEqual(rows);
    expect(await settle(batch)).toBe(1);
    expect(await historyOf(orderId)).toEqual(rows);
    expect(await balanceOf(owner, userId, 'USDT')).toMatchObject({ locked: USDT(900) });
  });

  it('an OCO pair’s amend is one row per leg, each with its own engine answer; the list lock frees once', async () => {
    const userId = await fundedUser(owner, { BTC: BTC(0.15) });
    const placed = await lists.placeOco(userId, {
      symbol: 'BTCUSDT',
      side: 'SELL',
      quantity: '0.1',
      above: { type: 'LIMIT_MAKER', price: '31000' },
      below: { type: 'STOP_LOSS_LIMIT', price: '28900', stopPrice: '29000', timeInForce: 'GTC' },
    });
    expect(await settle(kinesisBatch(drain()))).toBe(0);
    const [limitLeg, stopLeg] = placed.list.orderIds;
    await amend(userId, stopLeg, '0.06');
    await amend(userId, limitLeg, '0.02');
    const records = drain();
    const answers = amendedEvents(records);
    // Each amend answers both legs: the amended leg first, then its pair.
    expect(answers.map((e) => [e.orderId, e.quantity])).toEqual([
      [stopLeg, 6_000],
      [limitLeg, 6_000],
      [limitLeg, 2_000],
      [stopLeg, 2_000],
    ]);
    expect(await settle(kinesisBatch(records))).toBe(0);
    expect(await historyOf(stopLeg)).toEqual([
      [answers[0].seq, 10_000, 6_000, answers[0].ts],
      [answers[3].seq, 6_000, 2_000, answers[3].ts],
    ]);
    expect(await historyOf(limitLeg)).toEqual([
      [answers[1].seq, 10_000, 6_000, answers[1].ts],
      [answers[2].seq, 6_000, 2_000, answers[2].ts],
    ]);
    expect(await balanceOf(owner, userId, 'BTC')).toMatchObject({
      available: BTC(0.13),
      locked: BTC(0.02),
    });
    expect((await owner.checkConservation()).problems).toEqual([]);
  });

  it('ten amends settled in one batch are ten rows: the eleventh is refused (MAX_NUM_ORDER_AMENDS)', async () => {
    const { userId, orderId } = await restingBuy();
    for (let i = 1; i <= 10; i++) await amend(userId, orderId, `0.0${100 - i}`); // 0.099 … 0.090
    expect(await settle(kinesisBatch(drain()))).toBe(0);
    const rows = await history(orderId);
    expect(rows.map((r) => r.newQtyLots)).toEqual([
      9_900, 9_800, 9_700, 9_600, 9_500, 9_400, 9_300, 9_200, 9_100, 9_000,
    ]);
    expect(rows.slice(1).map((r) => r.origQtyLots)).toEqual(rows.slice(0, -1).map((r) => r.newQtyLots));
    await expect(amend(userId, orderId, '0.089')).rejects.toMatchObject({
      code: -2038,
      message: 'Filter failure: MAX_NUM_ORDER_AMENDS',
    });
    expect(drain()).toEqual([]);
  });
});
