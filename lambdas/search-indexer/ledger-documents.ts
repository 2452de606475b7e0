// Ledger entries as search documents (docs/api.md#search): one document per ledger transaction (kind and
// reference, its unique key), user and asset, with the change of that user's available and locked balance. The figures come from the ledger's own
// posting rules (lambdas/shared/ledger/postings.ts), the ones the transaction was posted with: a trade's from
// tradeSettlement, a wallet transaction's from its kind and the withdrawal row. Pure.
import type { MarketSpec, TradeEvent } from '@engine/core/types';
import type { BalanceEvent } from '@contracts/wallet-events';
import type { SearchDoc } from '@contracts/search-documents';
import {
  depositPostings,
  lockPostings,
  tradeSettlement,
  unlockPostings,
  type Posting,
} from '../shared/ledger/postings';
import { withdrawalPostings, type WithdrawalRow } from '../shared/ledger/withdrawals';
import { assetScale, formatUnits } from '../shared/money';

interface Change {
  available: bigint;
  locked: bigint;
}

/** Per user and asset: the sum of that user's postings by bucket (user accounts are `user:<id>`, postings.ts). */
function changesByUser(postings: Posting[]): Map<string, Change> {
  const out = new Map<string, Change>();
  for (const p of postings) {
    if (!p.owner.startsWith('user:')) continue;
    const key = `${p.owner.slice(5)}|${p.asset}`;
    const c = out.get(key) ?? { available: 0n, locked: 0n };
    c[p.bucket] += p.amount;
    out.set(key, c);
  }
  return out;
}

const signed = (units: bigint, asset: string) =>
  `${units > 0n ? '+' : ''}${formatUnits(units, assetScale(asset))}`;

function ledgerDoc(d: {
  reference: string;
  kind: string;
  userId: number;
  asset: string;
  change: Change;
  version: number;
  time: number;
  symbol?: string;
  orderId?: number;
  tradeId?: number;
}): SearchDoc {
  const status = d.kind.toUpperCase();
  return {
    id: `ledger-${d.kind}-${d.reference}-${d.userId}-${d.asset}`,
    kind: 'ledger',
    version: d.version,
    userId: d.userId,
    symbol: d.symbol ?? '',
    side: '',
    status,
    assets: [d.asset],
    time: d.time,
    orderId: d.orderId ?? 0,
    clientOrderId: '',
    tradeId: d.tradeId ?? 0,
    text: [d.reference, d.asset, status, d.symbol ?? '', d.orderId ?? '', d.tradeId ?? '']
      .filter((p) => p !== '')
      .join(' '),
    body: {
      reference: d.reference,
      kind: d.kind,
      asset: d.asset,
      available: signed(d.change.available, d.asset),
      locked: signed(d.change.locked, d.asset),
      time: d.time,
      ...(d.symbol ? { symbol: d.symbol, orderId: d.orderId, tradeId: d.tradeId } : {}),
    },
  };
}

/** A trade's entries: the buyer's and the seller's change in base and in quote (a self-trade: one per asset). */
export function tradeLedgerDocs(spec: MarketSpec, trade: TradeEvent): SearchDoc[] {
  const s = tradeSettlement(spec, trade);
  const reference = `${spec.symbol}:${trade.tradeId}`; // the ledger transaction's reference (settle_trade)
  return [...changesByUser(s.postings)].map(([key, change]) => {
    const [user, asset] = key.split('|');
    const userId = Number(user);
    return ledgerDoc({
      reference,
      kind: 'trade',
      userId,
      asset,
      change,
      version: trade.seq,
      time: trade.ts,
      symbol: spec.symbol,
      orderId: userId === trade.takerUserId ? trade.takerOrderId : trade.makerOrderId,
      tradeId: trade.tradeId,
    });
  });
}

/**
 * A wallet transaction's entry for the event's user and asset. The postings are rebuilt from the kind (and,
 * for a withdrawal, its row's amount and fee); undefined when they do not give the event's own change of the
 * available balance (the row does not belong to the event, or the rules changed): then nothing is shown.
 */
export function walletLedgerDoc(e: BalanceEvent, withdrawal?: WithdrawalRow): SearchDoc | undefined {
  const delta = BigInt(e.delta);
  const total = withdrawal ? withdrawal.amount + withdrawal.fee : undefined;
  let postings: Posting[] | undefined;
  if (e.kind === 'deposit') postings = depositPostings(e.userId, e.asset, delta);
  else if (total !== undefined && withdrawal?.userId === e.userId && withdrawal.coin === e.asset) {
    if (e.kind === 'withdraw-lock') postings = lockPostings(e.userId, e.asset, total);
    else if (e.kind === 'withdraw-release') postings = unlockPostings(e.userId, e.asset, total);
    else if (e.kind === 'withdraw')
      postings = withdrawalPostings(e.userId, e.asset, withdrawal.amount, withdrawal.fee);
  }
  const change = postings && changesByUser(postings).get(`${e.userId}|${e.asset}`);
  if (!change || change.available !== delta) return undefined;
  return ledgerDoc({
    reference: e.reference,
    kind: e.kind,
    userId: e.userId,
    asset: e.asset,
    change,
    version: e.id,
    time: e.time,
  });
}
