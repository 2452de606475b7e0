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
    // The same record delivered twice (two separately decoded copies): both times exactly these lines,
    // ids from market + seq and market + trade id only, never from anything that differs per delivery.
    const delivery = () =>
      record([
        { type: 'trade', seq: 4, ts: 0, tradeId: 2 },
        { type: 'closed', seq: 5, ts: 0, orderId: 9 },
      ]);
    const expected = [
      '{"index":{"_index":"cirrus-events-1970.01","_id":"BTCUSDT-4"}}',
      '{"type":"trade","seq":4,"ts":0,"tradeId":2,"market":"BTCUSDT"}',
      '{"index":{"_index":"cirrus-trades","_id":"BTCUSDT-2"}}',
      '{"type":"trade","seq":4,"ts":0,"tradeId":2,"market":"BTCUSDT"}',
      '{"index":{"_index":"cirrus-events-1970.01","_id":"BTCUSDT-5"}}',
      '{"type":"closed","seq":5,"ts":0,"orderId":9,"market":"BTCUSDT"}',
    ];
    expect(bulkLines(delivery())).toEqual(expected);
    expect(bulkLines(delivery())).toEqual(expected);
  });
});
