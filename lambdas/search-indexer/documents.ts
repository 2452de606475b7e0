// Engine events → search documents, each carrying its owner's user id. Orders: one document per order
// (`order-<orderId>`), built from its row in PostgreSQL (the owner and the fields no later event carries)
// with the state the batch's events reached, versioned by that state's engine seq. Trades: one document per
// leg (`trade-<symbol>-<tradeId>-<M|T>`), owner and commission from the trade itself. Wallet events (the
// wallet-event stream): one document per deposit credited (`deposit-<ledger reference>`) and per withdrawal
// (`withdrawal-<id>`, versioned by the balance event, so each later event of it replaces the document). Pure.
import type { MarketSpec, TradeEvent } from '@engine/core/types';
import type { BalanceEvent } from '@contracts/wallet-events';
import { depositJson, withdrawalJson } from '../api/capital-format';
import { orderJson, myTradeJson } from '../api/orders/format';
import type { DepositRow } from '../shared/ledger/deposits';
import type { WithdrawalRow } from '../shared/ledger/withdrawals';
import { userTradesOf } from '../shared/ledger/fills';
import { assetScale, formatUnits } from '../shared/money';
import type { SearchDoc } from '@contracts/search-documents';
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

/**
 * Both legs of a trade, each its owner's (a self-trade gives the one user two documents); `orders` the rows of
 * the trade's orders, for the client order id and the order list of a list leg.
 */
export function tradeDocs(
  spec: MarketSpec,
  trade: TradeEvent,
  orders: ReadonlyMap<number, Pick<OrderRecord, 'clientOrderId' | 'orderListId'>>,
) {
  return userTradesOf(spec, trade).map((leg): SearchDoc => {
    const order = orders.get(leg.orderId);
    const clientOrderId = order?.clientOrderId ?? '';
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
      body: myTradeJson(spec, leg, assetScale(leg.commissionAsset), order?.orderListId),
    };
  });
}

/**
 * A credited deposit: the chain deposit's history entry when the reference is one (address, tx hash,
 * confirmations), else (an internal credit) the ledger's figures alone. The version is the balance event's id.
 */
export function depositDoc(e: BalanceEvent, row?: DepositRow): SearchDoc {
  const body = row
    ? depositJson(row)
    : {
        id: e.reference,
        amount: formatUnits(BigInt(e.delta), assetScale(e.asset)),
        coin: e.asset,
        network: '',
        status: 1,
        address: '',
        addressTag: '',
        txId: '',
        insertTime: e.time,
        completeTime: e.time,
        transferType: 1,
        confirmTimes: '',
        unlockConfirm: 0,
        walletType: 0,
      };
  return walletDoc({
    id: `deposit-${e.reference}`,
    kind: 'deposit',
    version: e.id,
    userId: e.userId,
    status: 'CREDITED',
    asset: e.asset,
    time: e.time,
    text: text(
      e.reference,
      e.asset,
      row?.network ?? '',
      row?.txHash ?? '',
      row?.address ?? '',
      'DEPOSIT',
      'CREDITED',
    ),
    body,
  });
}

/** A withdrawal as its row stands when the event is indexed (requested, sent, confirmed or failed). */
export function withdrawalDoc(e: BalanceEvent, row: WithdrawalRow): SearchDoc {
  const status = row.status.toUpperCase();
  return walletDoc({
    id: `withdrawal-${row.id}`,
    kind: 'withdrawal',
    version: e.id,
    userId: row.userId,
    status,
    asset: row.coin,
    time: row.applyMs,
    text: text(row.id, row.coin, row.network, row.address, row.txHash ?? '', 'WITHDRAWAL', status),
    body: withdrawalJson(row),
  });
}

/** A deposit's or withdrawal's document: no market, side, order or trade. */
function walletDoc(d: {
  id: string;
  kind: 'deposit' | 'withdrawal';
  version: number;
  userId: number;
  status: string;
  asset: string;
  time: number;
  text: string;
  body: Record<string, unknown>;
}): SearchDoc {
  const { asset, ...rest } = d;
  return { ...rest, symbol: '', side: '', assets: [asset], orderId: 0, clientOrderId: '', tradeId: 0 };
}

/** The withdrawal id of a withdrawal's ledger reference (`withdrawal:<id>`), else undefined. */
export function withdrawalIdOf(reference: string): number | undefined {
  const m = /^withdrawal:(\d{1,15})$/.exec(reference);
  return m ? Number(m[1]) : undefined;
}
