import type { AcceptedEvent, EngineEvent } from '@engine/core/types';
import { orderProgressFromEvents, statusForClose } from '@lambdas/data-processor/order-view';

const base = { market: 'BTCUSDT', ts: 1000 };
const accepted = (
  seq: number,
  orderId: number,
  orderType: 'LIMIT' | 'STOP_LOSS_LIMIT' = 'LIMIT',
): EngineEvent => ({
  ...base,
  seq,
  type: 'accepted',
  orderId,
  userId: orderId * 10,
  clientOrderId: `c${orderId}`,
  side: 'BUY',
  orderType,
  timeInForce: 'GTC',
  price: 100,
  quantity: 10,
  quoteQuantity: 0,
  stopPrice: 0,
  icebergQuantity: 0,
  stpMode: 'NONE',
});
const trade = (
  seq: number,
  maker: number,
  taker: number,
  makerExec: number,
  takerExec: number,
): EngineEvent => ({
  ...base,
  seq,
  type: 'trade',
  tradeId: seq,
  price: 100,
  quantity: 4,
  makerOrderId: maker,
  makerUserId: maker * 10,
  takerOrderId: taker,
  takerUserId: taker * 10,
  takerSide: 'SELL',
  makerExecutedQty: makerExec,
  takerExecutedQty: takerExec,
  makerCumQuote: makerExec * 100,
  takerCumQuote: takerExec * 100,
});

describe('orderProgressFromEvents', () => {
  it('folds a batch into one absolute update per order, at the latest seq', () => {
    const events: EngineEvent[] = [
      accepted(1, 1),
      accepted(2, 2),
      trade(3, 1, 2, 4, 4),
      trade(4, 1, 2, 8, 8),
      {
        ...base,
        seq: 5,
        type: 'closed',
        orderId: 2,
        userId: 20,
        reason: 'IOC',
        executedQty: 8,
        cumQuote: 800,
      },
    ];
    const byId = new Map(orderProgressFromEvents(events).map((p) => [p.orderId, p]));
    expect(byId.get(1)).toEqual({
      orderId: 1,
      seq: 4,
      updateTime: 1000,
      status: 'PARTIALLY_FILLED',
      isWorking: true,
      workingTime: 1000,
      executedLots: 8,
      cumQuote: 800,
    });
    expect(byId.get(2)).toMatchObject({ seq: 5, status: 'EXPIRED', executedLots: 8, cumQuote: 800 });
  });

  it('keeps a stop order not working until it triggers', () => {
    const [p] = orderProgressFromEvents([accepted(1, 7, 'STOP_LOSS_LIMIT')]);
    expect(p).toMatchObject({ status: 'NEW', isWorking: false });
    expect(p.workingTime).toBeUndefined();
    const [q] = orderProgressFromEvents([
      { ...base, seq: 9, ts: 2000, type: 'triggered', orderId: 7, userId: 70 },
    ]);
    expect(q).toEqual({ orderId: 7, seq: 9, updateTime: 2000, isWorking: true, workingTime: 2000 });
  });

  it('a rejected place is no progress: the ledger rejects the order only if the engine never answered it', () => {
    const rejected = (reason: 'MIN_NOTIONAL' | 'DUPLICATE_ORDER_ID'): EngineEvent => ({
      ...base,
      seq: 3,
      type: 'rejected',
      command: 'place',
      orderId: 5,
      userId: 50,
      reason,
    });
    // Progress would overwrite an answered order (a redelivered place): the seq-guarded conditional
    // rejection in LedgerRepository.settleRecords decides instead (test/integration/ledger-pg.test.ts).
    expect(orderProgressFromEvents([rejected('MIN_NOTIONAL')])).toEqual([]);
    expect(orderProgressFromEvents([rejected('DUPLICATE_ORDER_ID')])).toEqual([]);
  });

  it('maps every close reason to a Binance status', () => {
    expect(statusForClose('FILLED')).toBe('FILLED');
    expect(statusForClose('CANCELED')).toBe('CANCELED');
    expect(statusForClose('IOC')).toBe('EXPIRED');
    expect(statusForClose('FOK')).toBe('EXPIRED');
    expect(statusForClose('NO_LIQUIDITY')).toBe('EXPIRED');
    expect(statusForClose('STP_MAKER')).toBe('EXPIRED_IN_MATCH');
    expect(statusForClose('STP_TAKER')).toBe('EXPIRED_IN_MATCH');
  });

  it('applies amends as absolute price and quantity', () => {
    const [p] = orderProgressFromEvents([
      {
        ...base,
        seq: 4,
        type: 'amended',
        orderId: 3,
        userId: 30,
        price: 99,
        quantity: 6,
        keptPriority: true,
        executedQty: 0,
        cumQuote: 0,
        onBook: true,
      },
    ]);
    expect(p).toEqual({ orderId: 3, seq: 4, updateTime: 1000, priceTicks: 99, qtyLots: 6 });
  });

  it('records when a trailing stop started trailing: on entry (accepted) or at its trigger (triggered)', () => {
    const onEntry = {
      ...(accepted(1, 5, 'STOP_LOSS_LIMIT') as AcceptedEvent),
      trailingDelta: 100,
      trailingTime: 900,
    };
    const [a] = orderProgressFromEvents([onEntry]);
    expect(a).toMatchObject({ orderId: 5, isWorking: false, trailingTime: 900 });
    const [t] = orderProgressFromEvents([
      { ...base, seq: 7, type: 'triggered', orderId: 6, userId: 60, trailingTime: 950 },
    ]);
    expect(t).toEqual({
      orderId: 6,
      seq: 7,
      updateTime: 1000,
      isWorking: true,
      workingTime: 1000,
      trailingTime: 950,
    });
    // Plain stops carry no trailing time.
    const [plain] = orderProgressFromEvents([{ ...base, seq: 8, type: 'triggered', orderId: 7, userId: 70 }]);
    expect('trailingTime' in plain).toBe(false);
  });
});
