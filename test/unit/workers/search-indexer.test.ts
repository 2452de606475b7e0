// The search indexer against the OpenSearch stand-in (the same client code as in AWS): one document per
// order and per trade leg, each its owner's; replays change nothing; one order-row query per batch; a
// document that cannot be written makes Lambda retry from the first record that produced it. Wallet events:
// one document per deposit and per withdrawal, each its owner's, the latest event's state, replays no-ops.
import type { EngineEvent, TradeEvent } from '@engine/core/types';
import { tradeSettlement } from '@lambdas/shared/ledger/postings';
import { indexKinesisBatch, indexWalletBatch, type IndexerDeps } from '@lambdas/search-indexer/handler';
import { isWalletEventBatch } from '@lambdas/shared/stream-records';
import type { BalanceEvent } from '@contracts/wallet-events';
import type { DepositRow } from '@lambdas/shared/ledger/deposits';
import type { WithdrawalRow } from '@lambdas/shared/ledger/withdrawals';
import { MARKETS } from '@contracts/markets';
import { OpenSearchIndex } from '@lambdas/shared/search/opensearch';
import type { SearchDoc, SearchIndex } from '@contracts/search-documents';
import type { OrderRecord } from '@lambdas/shared/stores/orders';
import { startSearch, type SearchStandin } from '@local/standins/search';
import { batch, record, trade, walletBatch } from '@test/support/kinesis-batch';

const spec = MARKETS.find((m) => m.symbol === 'BTCUSDT')!;

const row = (orderId: number, userId: number, over: Partial<OrderRecord> = {}): OrderRecord => ({
  orderId,
  userId,
  symbol: 'BTCUSDT',
  clientOrderId: `client-${orderId}`,
  side: orderId % 2 === 0 ? 'BUY' : 'SELL',
  type: 'LIMIT',
  timeInForce: 'GTC',
  priceTicks: 3_000_000,
  qtyLots: 10,
  quoteQty: 0,
  stopTicks: 0,
  icebergLots: 0,
  stpMode: 'NONE',
  status: 'NEW',
  executedLots: 0,
  cumQuote: 0,
  time: 500,
  updateTime: 500,
  workingTime: 500,
  isWorking: true,
  lockAsset: 'BTC',
  lockAmount: '10',
  lastSeq: 0,
  ...over,
});

const accepted = (seq: number, orderId: number, userId: number): EngineEvent => ({
  type: 'accepted',
  market: 'BTCUSDT',
  seq,
  ts: 900,
  orderId,
  userId,
  clientOrderId: `client-${orderId}`,
  side: orderId % 2 === 0 ? 'BUY' : 'SELL',
  orderType: 'LIMIT',
  timeInForce: 'GTC',
  price: 3_000_000,
  quantity: 10,
  quoteQuantity: 0,
  stopPrice: 0,
  icebergQuantity: 0,
  stpMode: 'NONE',
});

const closed = (seq: number, orderId: number, userId: number): EngineEvent => ({
  type: 'closed',
  market: 'BTCUSDT',
  seq,
  ts: 1_000,
  orderId,
  userId,
  reason: 'FILLED',
  executedQty: 10,
  cumQuote: 30_000_000,
});

// Maker order 1 (user 1, SELL) rests; taker order 2 (user 2, BUY) fills it: trade 1, both orders closed.
const first = record([accepted(1, 1, 1)]);
const second = record([accepted(2, 2, 2), trade(3, 1), closed(4, 1, 1), closed(5, 2, 2)]);

let standin: SearchStandin;
let index: OpenSearchIndex;
let queries: number[][];
let rows: Map<number, OrderRecord>;
let withdrawalRows: Map<number, WithdrawalRow>;
let depositRows: Array<DepositRow & { userId: number }>;

const deps = (over: Partial<IndexerDeps> = {}): IndexerDeps => ({
  index,
  markets: new Map([[spec.symbol, spec]]),
  orderRows: async (ids) => {
    queries.push(ids);
    return ids.flatMap((id) => (rows.has(id) ? [rows.get(id)!] : []));
  },
  depositRows: async (refs) =>
    depositRows.filter((d) => refs.includes(`chain:${d.network}:${d.txHash}:${d.logIndex}`)),
  withdrawalRows: async (ids) =>
    ids.flatMap((id) => (withdrawalRows.has(id) ? [withdrawalRows.get(id)!] : [])),
  ...over,
});

const byId = (docs: SearchDoc[]) => new Map(docs.map((d) => [d.id, d]));

beforeEach(async () => {
  standin = await startSearch({ port: 0 });
  index = new OpenSearchIndex({ url: standin.endpoint });
  queries = [];
  withdrawalRows = new Map();
  depositRows = [];
  // Settlement not there yet: the rows still say NEW and lastSeq 0 (the indexer takes the events' state).
  rows = new Map([
    [1, row(1, 1)],
    [2, row(2, 2)],
  ]);
});

afterEach(async () => {
  await standin.stop();
});

describe('search indexer', () => {
  it("indexes each order once with its owner and final state, and each trade leg as its owner's", async () => {
    expect(await indexKinesisBatch(batch([first, second]), deps())).toEqual({ batchItemFailures: [] });
    const docs = byId(standin.documents());
    expect([...docs.keys()].sort()).toEqual([
      'ledger-trade-BTCUSDT:1-1-BTC',
      'ledger-trade-BTCUSDT:1-1-USDT',
      'ledger-trade-BTCUSDT:1-2-BTC',
      'ledger-trade-BTCUSDT:1-2-USDT',
      'order-1',
      'order-2',
      'trade-BTCUSDT-1-M',
      'trade-BTCUSDT-1-T',
    ]);
    expect(docs.get('order-1')).toMatchObject({
      userId: 1,
      status: 'FILLED',
      version: 4,
      clientOrderId: 'client-1',
    });
    expect(docs.get('order-2')).toMatchObject({ userId: 2, status: 'FILLED', version: 5, side: 'BUY' });
    expect(docs.get('order-1')!.body).toMatchObject({ executedQty: '0.00010000', status: 'FILLED' });
    expect(docs.get('trade-BTCUSDT-1-M')).toMatchObject({ userId: 1, side: 'SELL', orderId: 1, tradeId: 1 });
    expect(docs.get('trade-BTCUSDT-1-T')).toMatchObject({ userId: 2, side: 'BUY', orderId: 2, tradeId: 1 });
    // Decimal strings, never numbers, for money.
    expect(typeof docs.get('trade-BTCUSDT-1-T')!.body.commission).toBe('string');
    // One query for the whole batch's orders.
    expect(queries).toEqual([[1, 2]]);
  });

  it("a trade leg's body carries its order's list id (as /myTrades prints it), -1 for a single order", async () => {
    rows.set(1, { ...row(1, 1), orderListId: 7 });
    await indexKinesisBatch(batch([first, second]), deps());
    const docs = byId(standin.documents());
    expect(docs.get('trade-BTCUSDT-1-M')!.body).toMatchObject({ orderId: 1, orderListId: 7 });
    expect(docs.get('trade-BTCUSDT-1-T')!.body).toMatchObject({ orderId: 2, orderListId: -1 });
  });

  it('a replayed batch creates no duplicates and an older one arriving late changes nothing', async () => {
    await indexKinesisBatch(batch([first, second]), deps());
    const once = standin.documents();
    expect(await indexKinesisBatch(batch([first, second]), deps())).toEqual({ batchItemFailures: [] });
    expect(await indexKinesisBatch(batch([first]), deps())).toEqual({ batchItemFailures: [] });
    expect(standin.documents()).toHaveLength(8);
    expect(byId(standin.documents())).toEqual(byId(once));
    // The replayed `first` alone would say NEW: the stored FILLED (a higher version) stays.
    expect(byId(standin.documents()).get('order-1')!.status).toBe('FILLED');
    // The client order id finds the order and its fill, once each.
    const found = await index.search({ userId: 1, text: 'client-1', from: 0, size: 10 });
    expect(found.hits.map((h) => h.id)).toEqual(['trade-BTCUSDT-1-M', 'order-1']);
  });

  it("indexes a trade's ledger entries with the figures the ledger posts, each its owner's", async () => {
    await indexKinesisBatch(batch([first, second]), deps());
    const docs = standin.documents().filter((d) => d.kind === 'ledger');
    const t = second.events.find((e) => e.type === 'trade')!;
    const settled = tradeSettlement(spec, t as TradeEvent);
    const units = (d: SearchDoc, bucket: 'available' | 'locked') =>
      BigInt((d.body[bucket] as string).replace(/[+.]/g, ''));
    // Every user entry of the settlement is a document's figure, in the right bucket, under its owner.
    for (const p of settled.postings.filter((p) => p.owner.startsWith('user:'))) {
      const doc = docs.find((d) => d.userId === Number(p.owner.slice(5)) && d.assets[0] === p.asset)!;
      expect(units(doc, p.bucket)).toBe(p.amount);
      expect(doc).toMatchObject({ status: 'TRADE', symbol: 'BTCUSDT', tradeId: 1, version: t.seq });
    }
    // The seller (user 1, maker) gave base from its lock and got quote less its fee.
    expect(byId(docs).get('ledger-trade-BTCUSDT:1-1-BTC')!.body).toMatchObject({
      reference: 'BTCUSDT:1',
      kind: 'trade',
      available: '0.00000000',
      locked: '-0.00010000',
      orderId: 1,
    });
    // Found by the trade's ledger reference, only by the owners.
    expect(
      (await index.search({ userId: 2, kind: 'ledger', text: 'BTCUSDT:1', from: 0, size: 10 })).total,
    ).toBe(2);
    expect((await index.search({ userId: 3, kind: 'ledger', from: 0, size: 10 })).total).toBe(0);
  });

  it('a self-trade gives its user one entry per asset, the two legs summed', async () => {
    const self = record([
      accepted(1, 1, 1),
      accepted(2, 2, 1),
      { ...(trade(3, 1) as TradeEvent), takerUserId: 1 },
    ]);
    rows.set(2, row(2, 1));
    await indexKinesisBatch(batch([self]), deps());
    const ledger = standin.documents().filter((d) => d.kind === 'ledger');
    expect(ledger.map((d) => d.id).sort()).toEqual([
      'ledger-trade-BTCUSDT:1-1-BTC',
      'ledger-trade-BTCUSDT:1-1-USDT',
    ]);
    const btc = byId(ledger).get('ledger-trade-BTCUSDT:1-1-BTC')!.body;
    expect(btc.locked).toBe('-0.00010000');
    expect(btc.available).toMatch(/^\+0\.0000\d{4}$/); // base received less the buyer's fee
  });

  it('takes the row when settlement is ahead of the batch', async () => {
    rows.set(1, row(1, 1, { status: 'FILLED', executedLots: 10, cumQuote: 30_000_000, lastSeq: 9 }));
    await indexKinesisBatch(batch([first]), deps());
    expect(byId(standin.documents()).get('order-1')).toMatchObject({ status: 'FILLED', version: 9 });
  });

  it('retries from the first record behind a document that could not be written', async () => {
    const failing: SearchIndex = {
      ensureIndices: () => index.ensureIndices(),
      search: (q) => index.search(q),
      bulkIndex: async (docs) => {
        const out = await index.bulkIndex(docs.filter((d) => d.id !== 'trade-BTCUSDT-1-T'));
        return { ok: out.ok, failed: [...out.failed, { id: 'trade-BTCUSDT-1-T', reason: '429 too many' }] };
      },
    };
    const res = await indexKinesisBatch(batch([first, second]), deps({ index: failing }));
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: '2' }] });
    // The retry from record 2 completes what was missing, nothing twice.
    await indexKinesisBatch(batch([second]), deps());
    expect(standin.documents()).toHaveLength(8); // 2 orders, 2 trade legs, 4 ledger entries
  });

  it('retries the whole batch when the order rows or the index cannot be reached', async () => {
    const down = deps({
      orderRows: async () => {
        throw new Error('connection refused');
      },
    });
    expect(await indexKinesisBatch(batch([first, second]), down)).toEqual({
      batchItemFailures: [{ itemIdentifier: '1' }],
    });
    const gone = new OpenSearchIndex({ url: 'http://127.0.0.1:9' });
    expect(await indexKinesisBatch(batch([first, second]), deps({ index: gone }))).toEqual({
      batchItemFailures: [{ itemIdentifier: '1' }],
    });
    expect(standin.documents()).toHaveLength(0);
  });

  it('skips a record that is not an engine record and indexes the rest', async () => {
    const event = batch([first]);
    event.Records.unshift({
      ...event.Records[0],
      kinesis: {
        ...event.Records[0].kinesis,
        sequenceNumber: '0',
        data: Buffer.from('{"hello":1}').toString('base64'),
      },
    });
    expect(await indexKinesisBatch(event, deps())).toEqual({ batchItemFailures: [] });
    expect(standin.documents().map((d) => d.id)).toEqual(['order-1']);
  });

  describe('wallet events', () => {
    const TX = '0x' + 'ab'.repeat(32);
    const balance = (
      id: number,
      userId: number,
      kind: string,
      reference: string,
      delta = '100',
    ): BalanceEvent => ({
      id,
      userId,
      asset: 'USDT',
      delta,
      kind,
      reference,
      time: 2_000 + id,
    });
    const withdrawal = (id: number, userId: number, status: WithdrawalRow['status']): WithdrawalRow => ({
      id,
      userId,
      coin: 'USDT',
      network: 'ETH',
      address: '0x' + '12'.repeat(20),
      amount: 1_000_000_000n,
      fee: 100_000_000n,
      chainAmount: 10_000_000n,
      status,
      nonce: status === 'pending' ? null : 3,
      txHash: status === 'pending' ? null : TX,
      rawTx: null,
      applyMs: 1_500,
      completeMs: status === 'confirmed' ? 2_500 : null,
    });

    it('tells the two streams apart by the event source ARN', () => {
      expect(isWalletEventBatch(walletBatch([balance(1, 5, 'deposit', 'test:1')]))).toBe(true);
      expect(isWalletEventBatch(batch([first]))).toBe(false);
    });

    it("indexes a chain deposit with its history entry and an internal credit with the ledger's figures", async () => {
      depositRows = [
        {
          id: 9,
          userId: 5,
          network: 'ETH',
          txHash: TX,
          logIndex: 2,
          coin: 'USDT',
          address: '0x' + '34'.repeat(20),
          amount: 100n,
          blockNumber: 7,
          confirmations: 1,
          requiredConfirmations: 1,
          status: 'credited',
          insertMs: 1_900,
          creditedMs: 2_001,
        },
      ];
      const event = walletBatch([
        balance(1, 5, 'deposit', `chain:ETH:${TX}:2`),
        balance(2, 6, 'deposit', 'seed:6'),
      ]);
      expect(await indexWalletBatch(event, deps())).toEqual({ batchItemFailures: [] });
      const docs = byId(standin.documents());
      expect(docs.get(`deposit-chain:ETH:${TX}:2`)).toMatchObject({
        kind: 'deposit',
        userId: 5,
        status: 'CREDITED',
        assets: ['USDT'],
        body: { id: '9', txId: TX, network: 'ETH', amount: '0.00000100', status: 1 },
      });
      expect(docs.get('deposit-seed:6')).toMatchObject({
        userId: 6,
        body: { id: 'seed:6', amount: '0.00000100', txId: '', coin: 'USDT' },
      });
      // Found by its tx hash, only by its owner.
      expect(
        (await index.search({ userId: 5, text: TX, from: 0, size: 10 })).hits.map((d) => d.id).sort(),
      ).toEqual([`deposit-chain:ETH:${TX}:2`, `ledger-deposit-chain:ETH:${TX}:2-5-USDT`]);
      expect((await index.search({ userId: 6, text: TX, from: 0, size: 10 })).total).toBe(0);
    });

    it("keeps one document per withdrawal at its latest event's state; a replay of an older event changes nothing", async () => {
      withdrawalRows.set(4, withdrawal(4, 5, 'pending'));
      const lock = balance(10, 5, 'withdraw-lock', 'withdrawal:4', '-1100000000');
      expect(await indexWalletBatch(walletBatch([lock]), deps())).toEqual({ batchItemFailures: [] });
      expect(byId(standin.documents()).get('withdrawal-4')).toMatchObject({ status: 'PENDING', version: 10 });

      withdrawalRows.set(4, withdrawal(4, 5, 'confirmed'));
      await indexWalletBatch(walletBatch([balance(11, 5, 'withdraw', 'withdrawal:4', '0')]), deps());
      // The lock's event again (a re-publish): older, so the confirmed state stays.
      withdrawalRows.set(4, withdrawal(4, 5, 'pending'));
      await indexWalletBatch(walletBatch([lock]), deps());
      const doc = byId(standin.documents()).get('withdrawal-4')!;
      expect(doc).toMatchObject({ status: 'CONFIRMED', version: 11, userId: 5 });
      expect(doc.body).toMatchObject({
        id: '4',
        status: 6,
        txId: TX,
        amount: '10.00000000',
        transactionFee: '1.00000000',
      });
      expect(standin.documents().filter((d) => d.kind === 'withdrawal')).toHaveLength(1);
    });

    it('indexes a ledger entry per event, both buckets rebuilt from the posting rules', async () => {
      withdrawalRows.set(4, withdrawal(4, 5, 'confirmed'));
      const events = [
        balance(1, 5, 'deposit', 'seed:5', '5000000000'),
        balance(2, 5, 'withdraw-lock', 'withdrawal:4', '-1100000000'),
        balance(3, 5, 'withdraw', 'withdrawal:4', '0'),
      ];
      expect(await indexWalletBatch(walletBatch(events), deps())).toEqual({ batchItemFailures: [] });
      const ledger = byId(standin.documents().filter((d) => d.kind === 'ledger'));
      expect([...ledger.values()].map((d) => [d.id, d.status, d.body.available, d.body.locked])).toEqual(
        expect.arrayContaining([
          ['ledger-deposit-seed:5-5-USDT', 'DEPOSIT', '+50.00000000', '0.00000000'],
          ['ledger-withdraw-lock-withdrawal:4-5-USDT', 'WITHDRAW-LOCK', '-11.00000000', '+11.00000000'],
          ['ledger-withdraw-withdrawal:4-5-USDT', 'WITHDRAW', '0.00000000', '-11.00000000'],
        ]),
      );
      // One document per ledger transaction (kind and reference), user and asset.
      expect(ledger.size).toBe(3);
    });

    it("indexes no ledger entry whose figures do not match the event's, nor another user's withdrawal", async () => {
      withdrawalRows.set(4, withdrawal(4, 5, 'pending'));
      const event = walletBatch([
        balance(1, 5, 'withdraw-lock', 'withdrawal:4', '-999'), // the row says 11 USDT were locked
        balance(2, 6, 'withdraw-release', 'withdrawal:4', '1100000000'),
      ]);
      expect(await indexWalletBatch(event, deps())).toEqual({ batchItemFailures: [] });
      expect(standin.documents().filter((d) => d.kind === 'ledger')).toEqual([]);
    });

    it('never indexes a withdrawal under a user who does not own it, or one without its row', async () => {
      withdrawalRows.set(4, withdrawal(4, 5, 'pending'));
      const event = walletBatch([
        balance(1, 6, 'withdraw-lock', 'withdrawal:4'),
        balance(2, 6, 'withdraw-lock', 'withdrawal:77'),
      ]);
      expect(await indexWalletBatch(event, deps())).toEqual({ batchItemFailures: [] });
      expect(standin.documents()).toEqual([]);
    });

    it('retries the whole batch when the rows or the index cannot be reached, and skips a foreign record', async () => {
      const event = walletBatch([balance(1, 5, 'withdraw-lock', 'withdrawal:4')]);
      const down = async (): Promise<never> => {
        throw new Error('connection refused');
      };
      expect(await indexWalletBatch(event, deps({ withdrawalRows: down }))).toEqual({
        batchItemFailures: [{ itemIdentifier: '1' }],
      });
      withdrawalRows.set(4, withdrawal(4, 5, 'pending'));
      const broken: SearchIndex = { ensureIndices: async () => undefined, bulkIndex: down, search: down };
      expect(await indexWalletBatch(event, deps({ index: broken }))).toEqual({
        batchItemFailures: [{ itemIdentifier: '1' }],
      });
      const foreign = walletBatch([balance(1, 5, 'deposit', 'x')]);
      foreign.Records[0].kinesis.data = Buffer.from('{"hello":1}').toString('base64');
      expect(await indexWalletBatch(foreign, deps())).toEqual({ batchItemFailures: [] });
      expect(standin.documents()).toEqual([]);
    });
  });
});
