// Kinesis engine events → the search index (lambdas/shared/search): per batch, ONE PostgreSQL query for the
// rows of the orders the batch touched (their owners and the fields later events do not carry), then ONE
// bulk request of order and trade-leg documents under deterministic ids with versions, so a replayed batch
// writes nothing new (docs/api.md#search). Partial batch response: the earliest record whose documents
// could not be written is reported, and Lambda retries from there; a record that is not a Cirrus event
// record is skipped (settlement quarantines it on its side). Its second source, the wallet-event stream
// (balance events, told apart by the batch's event source ARN), gives deposit and withdrawal documents
// (indexWalletBatch). Both sources also give ledger-entry documents (./ledger-documents.ts).
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { z } from 'zod';
import type { MarketSpec, TradeEvent } from '@engine/core/types';
import { decodeRecord } from '@contracts/messages';
import { MARKETS } from '@contracts/markets';
import type { BalanceEvent } from '@contracts/wallet-events';
import { dbPool } from '../shared/db';
import { decodeBalanceEvents, isWalletEventBatch } from '../shared/stream-records';
import { DepositRepository, depositReference, type DepositRow } from '../shared/ledger/deposits';
import { OrderRepository } from '../shared/ledger/order-repository';
import { WithdrawalRepository, type WithdrawalRow } from '../shared/ledger/withdrawals';
import { logger } from '../shared/powertools';
import { searchIndexFromEnv } from '../shared/search/opensearch';
import type { SearchDoc, SearchIndex } from '@contracts/search-documents';
import type { OrderRecord } from '../shared/stores/orders';
import { orderProgressFromEvents } from '../data-processor/order-view';
import { mergeProgress, type OrderProgress } from '../shared/stores/orders';
import { depositDoc, orderDoc, tradeDocs, withdrawalDoc, withdrawalIdOf } from './documents';
import { tradeLedgerDocs, walletLedgerDoc } from './ledger-documents';
import { lambdaHandler } from '../shared/handler';

export interface IndexerDeps {
  index: SearchIndex;
  markets: ReadonlyMap<string, MarketSpec>;
  /** The rows of these orders (PostgreSQL), in one query. */
  orderRows(orderIds: number[]): Promise<OrderRecord[]>;
  /** The chain deposits of these ledger references, with their owners, in one query. */
  depositRows(references: string[]): Promise<Array<DepositRow & { userId: number }>>;
  /** These withdrawals, in one query. */
  withdrawalRows(ids: number[]): Promise<WithdrawalRow[]>;
}

const kinesisEventSchema = z.object({
  Records: z.array(
    z.object({
      kinesis: z.object({ data: z.string(), sequenceNumber: z.string(), partitionKey: z.string() }),
      // Which stream the batch is from (engine events or wallet events).
      eventSourceARN: z.string().optional(),
    }),
  ),
});

const errText = (err: unknown) => (err instanceof Error ? err.message : String(err));

export async function indexKinesisBatch(
  event: KinesisStreamEvent,
  deps: IndexerDeps,
): Promise<KinesisStreamBatchResponse> {
  const items = event.Records;
  if (items.length === 0) return { batchItemFailures: [] };
  const retryFrom = (i: number): KinesisStreamBatchResponse => ({
    batchItemFailures: [{ itemIdentifier: items[i].kinesis.sequenceNumber }],
  });

  // Per order: its latest state in the batch and the first record that touched it.
  const progress = new Map<number, OrderProgress>();
  const firstRecordOf = new Map<string, number>();
  const trades: Array<{ spec: MarketSpec; trade: TradeEvent; at: number }> = [];
  items.forEach((item, i) => {
    let record;
    try {
      record = decodeRecord(Buffer.from(item.kinesis.data, 'base64'));
    } catch (err) {
      logger.error('not a Cirrus event record; skipped', {
        sequenceNumber: item.kinesis.sequenceNumber,
        err: errText(err),
      });
      return;
    }
    const spec = deps.markets.get(record.market);
    if (!spec) return; // settlement quarantines it; nothing to show
    const before = new Set(progress.keys());
    for (const p of orderProgressFromEvents(record.events)) mergeProgress(progress, p);
    for (const e of record.events) if (e.type === 'trade') trades.push({ spec, trade: e, at: i });
    for (const orderId of progress.keys()) if (!before.has(orderId)) firstRecordOf.set(`order-${orderId}`, i);
  });

  const docs: SearchDoc[] = [];
  try {
    const rows = progress.size === 0 ? [] : await deps.orderRows([...progress.keys()]);
    const byId = new Map(rows.map((r) => [r.orderId, r]));
    for (const [orderId, p] of progress) {
      const row = byId.get(orderId);
      const spec = row && deps.markets.get(row.symbol);
      if (!row || !spec) {
        // Accepted orders always have a row: one without is not Cirrus's (a foreign writer), skip it.
        logger.warn('order without a row; not indexed', { orderId });
        continue;
      }
      docs.push(orderDoc(spec, row, p));
    }
    for (const { spec, trade, at } of trades)
      for (const d of [...tradeDocs(spec, trade, byId), ...tradeLedgerDocs(spec, trade)]) {
        firstRecordOf.set(d.id, at);
        docs.push(d);
      }
  } catch (err) {
    logger.error('order rows not read; Lambda retries the batch', { err: errText(err) });
    return retryFrom(0);
  }
  if (docs.length === 0) return { batchItemFailures: [] };

  let failed;
  try {
    failed = (await deps.index.bulkIndex(docs)).failed;
  } catch (err) {
    logger.error('bulk indexing failed; Lambda retries the batch', { err: errText(err) });
    return retryFrom(0);
  }
  if (failed.length === 0) {
    logger.debug('indexed', { records: items.length, documents: docs.length });
    return { batchItemFailures: [] };
  }
  // Kinesis checkpoints up to the lowest failure: retry from the first record behind a failed document.
  const first = Math.min(...failed.map((f) => firstRecordOf.get(f.id) ?? 0));
  logger.error('documents not indexed; Lambda retries from their first record', {
    failed: failed.slice(0, 10),
    sequenceNumber: items[first].kinesis.sequenceNumber,
  });
  return retryFrom(first);
}

/** A batch of the wallet-event stream: one document per deposit and per withdrawal its events touch. */
export async function indexWalletBatch(
  event: KinesisStreamEvent,
  deps: IndexerDeps,
): Promise<KinesisStreamBatchResponse> {
  const items = event.Records;
  const events = decodeBalanceEvents(event);
  if (events.length === 0) return { batchItemFailures: [] };
  const retry = (): KinesisStreamBatchResponse => ({
    batchItemFailures: [{ itemIdentifier: items[0].kinesis.sequenceNumber }],
  });
  // The latest event of each deposit and withdrawal (a replay or a re-published event carries a version
  // already stored).
  const deposits = new Map<string, BalanceEvent>(); // by ledger reference
  const withdrawals = new Map<number, BalanceEvent>(); // by withdrawal id
  const ledgerEvents: Array<{ e: BalanceEvent; withdrawalId?: number }> = []; // every event: a ledger entry each
  for (const e of events) {
    if (e.kind === 'deposit') {
      if ((deposits.get(e.reference)?.id ?? 0) < e.id) deposits.set(e.reference, e);
      ledgerEvents.push({ e });
      continue;
    }
    const id = withdrawalIdOf(e.reference);
    if (id !== undefined && (withdrawals.get(id)?.id ?? 0) < e.id) withdrawals.set(id, e);
    ledgerEvents.push({ e, withdrawalId: id });
  }
  const docs: SearchDoc[] = [];
  try {
    const [depositRows, withdrawalRows] = await Promise.all([
      deposits.size === 0 ? [] : deps.depositRows([...deposits.keys()]),
      withdrawals.size === 0 ? [] : deps.withdrawalRows([...withdrawals.keys()]),
    ]);
    for (const e of deposits.values()) {
      const row = depositRows.find((d) => depositReference(d) === e.reference && d.userId === e.userId);
      docs.push(depositDoc(e, row));
    }
    for (const [id, e] of withdrawals) {
      const row = withdrawalRows.find((w) => w.id === id);
      // The owner must be the event's: a document never goes to anyone else's results.
      if (!row || row.userId !== e.userId) {
        logger.warn('withdrawal without its row; not indexed', { reference: e.reference });
        continue;
      }
      docs.push(withdrawalDoc(e, row));
    }
    for (const { e, withdrawalId } of ledgerEvents) {
      const row = withdrawalId === undefined ? undefined : withdrawalRows.find((w) => w.id === withdrawalId);
      const doc = walletLedgerDoc(e, row);
      if (doc) docs.push(doc);
      else logger.warn('ledger entry not rebuilt from its event; not indexed', { id: e.id, kind: e.kind });
    }
  } catch (err) {
    logger.error('wallet rows not read; Lambda retries the batch', { err: errText(err) });
    return retry();
  }
  try {
    const { failed } = await deps.index.bulkIndex(docs);
    if (failed.length === 0) return { batchItemFailures: [] };
    logger.error('wallet documents not indexed; Lambda retries the batch', { failed: failed.slice(0, 10) });
  } catch (err) {
    logger.error('bulk indexing failed; Lambda retries the batch', { err: errText(err) });
  }
  // Whole-batch retry: the documents are versioned, so what was written is not written twice.
  return retry();
}

let deps: IndexerDeps | undefined;

const handle = async (event: unknown): Promise<KinesisStreamBatchResponse> => {
  const batch = kinesisEventSchema.parse(event) as unknown as KinesisStreamEvent;
  if (!deps) {
    const orders = new OrderRepository(dbPool());
    const deposits = new DepositRepository(dbPool());
    const withdrawals = new WithdrawalRepository(dbPool());
    deps = {
      index: searchIndexFromEnv(),
      markets: new Map(MARKETS.map((m) => [m.symbol, m])),
      orderRows: (ids) => orders.getMany(ids),
      depositRows: (references) => deposits.byReferences(references),
      withdrawalRows: (ids) => withdrawals.getMany(ids),
    };
  }
  return isWalletEventBatch(batch) ? indexWalletBatch(batch, deps) : indexKinesisBatch(batch, deps);
};

export const handler = lambdaHandler(handle);
