// Engine events → search documents, each carrying its owner's user id. Orders: one document per order
// (`order-<orderId>`), built from its row in PostgreSQL (the owner and the fields no later event carries)
// with the state the batch's events reached, versioned by that state's engine seq. Trades: one document per
// leg (`trade-<symbol>-<tradeId>-<M|T>`), owner and commission from the trade itself. Pure.
import type { MarketSpec, TradeEvent } from '../../engine/core/types';
import { orderJson, myTradeJson } from '../api/orders/format';
import { userTradesOf } from '../shared/ledger/fills';
import { assetScale } from '../shared/money';
import type { SearchDoc } from '../../contracts/search-documents';
import type { OrderProgress, OrderRecord } from '../shared/stores/orders';

const text = (...parts: Array<string | number>) => parts.filter((p) => p !== '').join(' ');

/**
 * The order's document: its row, or the batch's state when that is newer than the row (settlement may be
 * behind this consumer). The version is the engine seq the state reflects.
 */
export function orderDoc(spec: MarketSpec, row: OrderRecord, progress?: OrderProgress): SearchDoc {
  const o: OrderRecord =
    progress && progress.seq > row.lastSeq
      ? {
          ...row,
          status: progress.status ?? row.status,
          executedLots: progress.executedLots ?? row.executedLots,
          cumQuote: progress.cumQuote ?? row.cumQuote,
          priceTicks: progress.priceTicks ?? row.priceTicks,
          qtyLots: progress.qtyLots ?? row.qtyLots,
          updateTime: progress.updateTime,
          lastSeq: progress.seq,
        }
      : row;
  return {
    id: `order-${o.orderId}`,
    kind: 'order',
    version: o.lastSeq,
    userId: o.userId,
    symbol: o.symbol,
    side: o.side,
    status: o.status,
    assets: [spec.baseAsset, spec.quoteAsset],
    time: o.time,
    orderId: o.orderId,
    clientOrderId: o.clientOrderId,
    tradeId: 0,
    text: text(o.orderId, o.clientOrderId, o.symbol, o.side, o.type, o.status),
    body: orderJson(spec, o),
  };
}

/** Both legs of a trade, each its owner's (a self-trade gives the one user two documents). */
export function tradeDocs(spec: MarketSpec, trade: TradeEvent, clientOrderIds: ReadonlyMap<number, string>) {
  return userTradesOf(spec, trade).map((leg): SearchDoc => {
    const clientOrderId = clientOrderIds.get(leg.orderId) ?? '';
    return {
      id: `trade-${spec.symbol}-${leg.tradeId}-${leg.isMaker ? 'M' : 'T'}`,
      kind: 'trade',
      version: trade.seq,
      userId: leg.userId,
      symbol: spec.symbol,
      side: leg.isBuyer ? 'BUY' : 'SELL',
      status: '',
      assets: [spec.baseAsset, spec.quoteAsset],
      time: leg.time,
      orderId: leg.orderId,
      clientOrderId,
      tradeId: leg.tradeId,
      text: text(leg.tradeId, leg.orderId, clientOrderId, spec.symbol, leg.isBuyer ? 'BUY' : 'SELL'),
      body: myTradeJson(spec, leg, assetScale(leg.commissionAsset)),
    };
  });
}
