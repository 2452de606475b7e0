// Candles fold each trade once, also when a retried batch overlaps what an earlier attempt applied and then
// goes further (a Lambda retry after a timeout reads from the first record again, with more records behind
// it). The fake store keeps mergeCandle's contract: all-or-nothing on "every trade newer than the candle".
import type { TradeEvent } from '@engine/core/types';
import type { EventRecord } from '@contracts/messages';
import { applyMarketData } from '@lambdas/data-processor/market-data-view';
import type { Candle, MarketDataStore } from '@lambdas/shared/stores/market-data';

function fakeStore() {
  const candles = new Map<string, Candle>();
  const store = {
    putTrades: async () => undefined,
    async mergeCandle(symbol: string, interval: string, c: Candle) {
      const key = `${symbol}#${interval}#${c.openTime}`;
      const held = candles.get(key);
      if (held && held.lastTradeId >= c.firstTradeId) return held.lastTradeId;
      candles.set(
        key,
        held
          ? {
              ...held,
              h: Math.max(held.h, c.h),
              l: Math.min(held.l, c.l),
              c: c.c,
              v: held.v + c.v,
              q: held.q + c.q,
              n: held.n + c.n,
              tbv: held.tbv + c.tbv,
              tbq: held.tbq + c.tbq,
              lastTradeId: c.lastTradeId,
            }
          : { ...c },
      );
      return undefined;
    },
  };
  return { store: store as unknown as MarketDataStore, candles };
}

const T0 = 1_764_000_000_000; // a whole minute
const trade = (id: number, price: number, quantity: number): TradeEvent =>
  ({
    type: 'trade',
    market: 'BTCUSDT',
    seq: id,
    ts: T0 + id,
    tradeId: id,
    price,
    quantity,
    makerOrderId: 100 + id,
    makerUserId: 1,
    takerOrderId: 200 + id,
    takerUserId: 2,
    takerSide: id % 2 === 0 ? 'BUY' : 'SELL',
    makerExecutedQty: quantity,
    takerExecutedQty: quantity,
    makerCumQuote: price * quantity,
    takerCumQuote: price * quantity,
  }) as TradeEvent;

const record = (trades: TradeEvent[]): EventRecord => ({
  v: 1,
  market: 'BTCUSDT',
  commands: [],
  events: trades,
});

const oneMinute = (candles: Map<string, Candle>) => candles.get(`BTCUSDT#1m#${T0}`);

describe('candles from engine trades', () => {
  const first = [trade(1, 300, 2), trade(2, 310, 1), trade(3, 290, 4)];
  const more = [trade(4, 320, 3), trade(5, 280, 5)];

  it('a retried batch that overlaps the applied one and goes further counts each trade once', async () => {
    const { store, candles } = fakeStore();
    await applyMarketData(store, [record(first)]);
    await applyMarketData(store, [record([...first, ...more])]);
    expect(oneMinute(candles)).toMatchObject({
      n: 5,
      v: 15,
      o: 300,
      h: 320,
      l: 280,
      c: 280,
      firstTradeId: 1,
      lastTradeId: 5,
    });
  });

  it('a batch applied twice changes nothing', async () => {
    const { store, candles } = fakeStore();
    await applyMarketData(store, [record(first)]);
    await applyMarketData(store, [record(first)]);
    expect(oneMinute(candles)).toMatchObject({ n: 3, v: 7, lastTradeId: 3 });
  });

  it('trades split over two records of one batch fold into one candle per interval', async () => {
    const { store, candles } = fakeStore();
    await applyMarketData(store, [record(first), record(more)]);
    expect(oneMinute(candles)).toMatchObject({ n: 5, v: 15, lastTradeId: 5 });
    expect(candles.get(`BTCUSDT#1h#${Math.floor(T0 / 3_600_000) * 3_600_000}`)).toMatchObject({ n: 5 });
  });
});
