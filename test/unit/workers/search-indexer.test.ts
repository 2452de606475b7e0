import { bulkLines } from '../../../lambdas/search-indexer/handler';
import type { EventRecord } from '../../../engine/service/messages';

const record = (events: unknown[]): EventRecord =>
  ({ v: 1, market: 'BTCUSDT', commands: [], events }) as unknown as EventRecord;

describe('search indexer bulk lines', () => {
  it('indexes events by market+seq and trades by market+trade id; skips depth', () => {
    const ts = Date.UTC(2026, 10, 25);
    const lines = bulkLines(
      record([
        { type: 'accepted', seq: 7, ts, orderId: 1 },
        { type: 'depth', seq: 8, ts },
        { type: 'trade', seq: 9, ts, tradeId: 3, price: 100, quantity: 2 },
      ]),
    ).map((l) => JSON.parse(l) as Record<string, { _index: string; _id: string }>);
    expect(lines).toHaveLength(6);
    expect(lines[0]).toEqual({ index: { _index: 'cirrus-events-2026.11', _id: 'BTCUSDT-7' } });
    expect(lines[2]).toEqual({ index: { _index: 'cirrus-events-2026.11', _id: 'BTCUSDT-9' } });
    expect(lines[4]).toEqual({ index: { _index: 'cirrus-trades', _id: 'BTCUSDT-3' } });
    expect(lines[5]).toMatchObject({ market: 'BTCUSDT', tradeId: 3 });
  });

  it('gives a replayed record the same document ids (idempotent)', () => {
    const r = record([{ type: 'trade', seq: 1, ts: 0, tradeId: 1 }]);
    expect(bulkLines(r)).toEqual(bulkLines(r));
  });
});
