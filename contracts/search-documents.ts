// The search index behind GET /cirrus/v1/search (docs/api.md#search) and the search indexer: documents with
// their owner's user id, written in bulk under deterministic ids with a version each, and searched with an
// owner scope, filters, free text and paging. Two implementations: OpenSearch over HTTP (./opensearch.ts,
// AWS and locally against local/standins/search.ts) and an embedded index (./embedded.ts, minisearch).
import { z } from 'zod';

/** One index per kind of document. */
export const DOC_KINDS = ['order', 'trade', 'deposit', 'withdrawal', 'ledger'] as const;
export type DocKind = (typeof DOC_KINDS)[number];

export const INDEX_OF: Record<DocKind, string> = {
  order: 'cirrus-orders',
  trade: 'cirrus-trades',
  deposit: 'cirrus-deposits',
  withdrawal: 'cirrus-withdrawals',
  ledger: 'cirrus-ledger',
};

/** The ledger transaction kinds a ledger entry's document shows as its status (upper case). */
export const LEDGER_KINDS = ['TRADE', 'DEPOSIT', 'WITHDRAW-LOCK', 'WITHDRAW', 'WITHDRAW-RELEASE'] as const;

/**
 * A searchable document. `version` only grows for one id (an order's is the engine seq its state reflects): a
 * write with a version not above the stored one changes nothing, so a replayed batch is a no-op.
 */
export interface SearchDoc {
  /**
   * Deterministic: `order-<orderId>`, `trade-<symbol>-<tradeId>-<M|T>` (one document per leg),
   * `deposit-<ledger reference>`, `withdrawal-<id>`, `ledger-<kind>-<ledger reference>-<userId>-<asset>`
   * (one per ledger transaction, user and asset).
   */
  id: string;
  kind: DocKind;
  version: number;
  /** The owner: only they (and operators) find it. */
  userId: number;
  /** A market ('' for deposits, withdrawals and their ledger entries). */
  symbol: string;
  /** '' for deposits and withdrawals. */
  side: 'BUY' | 'SELL' | '';
  /** Order status, deposit or withdrawal status, a ledger entry's kind; a trade leg has none (''). */
  status: string;
  /** Assets the document concerns (a market's base and quote; a deposit's or withdrawal's coin). */
  assets: string[];
  /** ms since the epoch: an order's creation, a trade's execution, a deposit's credit, a withdrawal's request. */
  time: number;
  orderId: number;
  clientOrderId: string;
  /** 0 for an order. */
  tradeId: number;
  /** What free text matches: ids, client order id, symbol, side, status, type; coin, address, tx hash. */
  text: string;
  /** The Binance JSON the caller is shown (stored, not indexed): decimal strings, never floats. */
  body: Record<string, unknown>;
}

export const searchDocSchema = z.object({
  id: z.string().min(1).max(300),
  kind: z.enum(DOC_KINDS),
  version: z.number().int().nonnegative(),
  userId: z.number().int().positive(),
  symbol: z.string(),
  side: z.enum(['BUY', 'SELL', '']),
  status: z.string(),
  assets: z.array(z.string()),
  time: z.number().int().nonnegative(),
  orderId: z.number().int().nonnegative(),
  clientOrderId: z.string(),
  tradeId: z.number().int().nonnegative(),
  text: z.string(),
  body: z.record(z.string(), z.unknown()),
});

export interface SearchQuery {
  /** The owner scope; undefined only for an operator searching everything. */
  userId?: number;
  /** Free text: every word must match (ids, client order id, symbol, side, status, type). */
  text?: string;
  kind?: DocKind;
  symbol?: string;
  side?: 'BUY' | 'SELL';
  status?: string;
  asset?: string;
  /** Inclusive bounds on `time` (ms). */
  startTime?: number;
  endTime?: number;
  from: number;
  size: number;
}

export interface SearchResult {
  total: number;
  /** Newest first (time descending, then id ascending). */
  hits: SearchDoc[];
}

export interface BulkOutcome {
  /** Written or already present with the same or a newer version (a replay). */
  ok: number;
  /** Ids that could not be written (the indexer retries the records that produced them). */
  failed: Array<{ id: string; reason: string }>;
}

export interface SearchIndex {
  /** Creates the indices with their explicit mappings if they do not exist yet (once per container). */
  ensureIndices(): Promise<void>;
  bulkIndex(docs: SearchDoc[]): Promise<BulkOutcome>;
  search(query: SearchQuery): Promise<SearchResult>;
}

/** OpenSearch returns at most this many hits per query window (index.max_result_window). */
export const MAX_RESULT_WINDOW = 10_000;

/** Newest first, ties by id: the order both implementations return. */
export function compareDocs(a: SearchDoc, b: SearchDoc): number {
  return b.time - a.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
