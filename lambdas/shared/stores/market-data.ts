// Indexed public market data in DynamoDB, written by the data processor, read by the public REST API:
//   book     pk BOOK#{symbol}            sk BOOK     { lastUpdateId, bids: [price, qty][], asks }  (ticks, lots)
//   trades   pk T#{symbol}  (TRADES)     sk {tradeId:16}  { id, price, qty, time, isBuyerMaker }
//   candles  pk K#{symbol}#{interval}    sk {openTime:16} { o, h, l, c, v, q, n, tbv, tbq, lastTradeId }
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { TradeEvent } from '@engine/core/types';
import { batchWriteAll } from './batch-write';
import { sortableNumber } from './sort-key';

export interface BookView {
  lastUpdateId: number;
  bids: Array<[number, number]>;
  asks: Array<[number, number]>;
}

export interface PublicTrade {
  id: number;
  price: number;
  qty: number;
  time: number;
  isBuyerMaker: boolean;
  /** The taker's order id, when the writer stored it (aggTrades groups by it; see lambdas/api/market/agg-trades.ts). */
  takerOrderId?: number;
}

/** A trade event as this store keeps it (and as /api/v3/trades and the aggregation rule read it). */
export const publicTradeOf = (t: TradeEvent): PublicTrade => ({
  id: t.tradeId,
  price: t.price,
  qty: t.quantity,
  time: t.ts,
  isBuyerMaker: t.takerSide === 'SELL',
  takerOrderId: t.takerOrderId,
});

export interface Candle {
  openTime: number;
  o: number;
  h: number;
  l: number;
  c: number;
  /** base volume in lots, quote volume in tick·lots, trade count, taker-buy volumes */
  v: number;
  q: number;
  n: number;
  tbv: number;
  tbq: number;
  firstTradeId: number;
  lastTradeId: number;
}

export const CANDLE_INTERVALS: Record<string, number> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '4h': 14_400_000,
  '1d': 86_400_000,
};

export const MAX_BOOK_LEVELS = 5_000;

export class MarketDataStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly tradesTable: string,
  ) {}

  async getBook(symbol: string): Promise<BookView & { version: number }> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: `BOOK#${symbol}`, sk: 'BOOK' },
        ConsistentRead: true,
      }),
    );
    const item = out.Item as (BookView & { version: number }) | undefined;
    return item ?? { lastUpdateId: 0, bids: [], asks: [], version: 0 };
  }

  /** Writes the book if nobody else did since `version` was read; false on a conflict. */
  async putBook(symbol: string, book: BookView, version: number): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: `BOOK#${symbol}`, sk: 'BOOK', ...book, version: version + 1 },
          ConditionExpression: 'attribute_not_exists(pk) OR version = :v',
          ExpressionAttributeValues: { ':v': version },
        }),
      );
      return true;
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  async putTrades(symbol: string, trades: PublicTrade[]): Promise<void> {
    await batchWriteAll(
      this.db,
      this.tradesTable,
      trades.map((t) => ({ PutRequest: { Item: { pk: `T#${symbol}`, sk: sortableNumber(t.id), ...t } } })),
    );
  }

  async recentTrades(symbol: string, limit: number): Promise<PublicTrade[]> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tradesTable,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `T#${symbol}` },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map(toPublicTrade).reverse();
  }

  /**
   * Trades by id, oldest first: ids in [fromId, toId] (either bound optional), at most `limit`; with
   * `newest` the last `limit` of the range instead of the first. Follows DynamoDB pages until `limit`.
   */
  async tradeRange(
    symbol: string,
    opts: { fromId?: number; toId?: number; limit: number; newest?: boolean },
  ): Promise<PublicTrade[]> {
    const items: PublicTrade[] = [];
    if ((opts.fromId ?? 0) > (opts.toId ?? Number.MAX_SAFE_INTEGER)) return items; // DynamoDB rejects from > to
    const pages = this.queryPages(
      {
        TableName: this.tradesTable,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': `T#${symbol}`,
          ':from': sortableNumber(opts.fromId ?? 0),
          ':to': sortableNumber(opts.toId ?? Number.MAX_SAFE_INTEGER),
        },
        ScanIndexForward: !opts.newest,
      },
      () => opts.limit - items.length,
    );
    for await (const page of pages) {
      items.push(...page.map(toPublicTrade));
      if (items.length >= opts.limit) break;
    }
    return opts.newest ? items.reverse() : items;
  }

  /**
   * Folds trades into a candle: applied only if they are all newer than what the candle already holds
   * (trades of a market arrive in id order), so replays change nothing. Returns undefined when applied;
   * otherwise the candle's lastTradeId, so the caller can fold only the trades past it (a retried batch
   * that overlaps what was applied and then goes further).
   */
  async mergeCandle(symbol: string, interval: string, c: Candle): Promise<number | undefined> {
    const key = { pk: `K#${symbol}#${interval}`, sk: sortableNumber(c.openTime) };
    let stored: Record<string, unknown> | undefined;
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression:
            'SET openTime = :t, o = if_not_exists(o, :o), h = if_not_exists(h, :h), l = if_not_exists(l, :l), c = :c, firstTradeId = if_not_exists(firstTradeId, :f), lastTradeId = :last ADD v :v, q :q, n :n, tbv :tbv, tbq :tbq',
          ConditionExpression: 'attribute_not_exists(lastTradeId) OR lastTradeId < :first',
          ExpressionAttributeValues: {
            ':t': c.openTime,
            ':o': c.o,
            ':h': c.h,
            ':l': c.l,
            ':c': c.c,
            ':f': c.firstTradeId,
            ':first': c.firstTradeId,
            ':last': c.lastTradeId,
            ':v': c.v,
            ':q': c.q,
            ':n': c.n,
            ':tbv': c.tbv,
            ':tbq': c.tbq,
          },
          // The stored high/low tell whether the fix-ups below are needed (usually they are not).
          ReturnValues: 'ALL_NEW',
        }),
      );
      stored = out.Attributes;
    } catch (err) {
      ignoreConditional(err); // some of these trades are already in the candle
      const current = await this.db.send(
        new GetCommand({ TableName: this.table, Key: key, ProjectionExpression: 'lastTradeId' }),
      );
      return Number(current.Item?.lastTradeId ?? 0);
    }
    // High/low need a max/min DynamoDB cannot express in one update: raise/lower them conditionally, and
    // only when this batch of trades set a new extreme for the candle.
    const fix = (attr: 'h' | 'l', value: number, condition: string) =>
      this.db
        .send(
          new UpdateCommand({
            TableName: this.table,
            Key: key,
            UpdateExpression: `SET ${attr} = :v`,
            ConditionExpression: condition,
            ExpressionAttributeValues: { ':v': value },
          }),
        )
        .catch(ignoreConditional);
    if (stored === undefined || Number(stored.h) < c.h) await fix('h', c.h, 'h < :v');
    if (stored === undefined || Number(stored.l) > c.l) await fix('l', c.l, 'l > :v');
    return undefined;
  }

  /** Candles with openTime in [from, to], page by page, oldest or newest first. */
  async *candlePages(
    symbol: string,
    interval: string,
    opts: { from: number; to: number; ascending: boolean; pageSize?: number },
  ): AsyncGenerator<Candle[]> {
    if (opts.from > opts.to) return; // DynamoDB rejects from > to
    for await (const page of this.queryPages<Candle>(
      {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': `K#${symbol}#${interval}`,
          ':from': sortableNumber(Math.max(0, opts.from)),
          ':to': sortableNumber(Math.max(0, opts.to)),
        },
        ScanIndexForward: opts.ascending,
      },
      () => opts.pageSize ?? 500,
    ))
      yield page;
  }

  /** One query's pages in order, each asking for `limit()` items; the caller stops reading when it has enough. */
  private async *queryPages<T = Record<string, unknown>>(
    input: Omit<QueryCommandInput, 'Limit' | 'ExclusiveStartKey'>,
    limit: () => number,
  ): AsyncGenerator<T[]> {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({ ...input, Limit: limit(), ExclusiveStartKey: start }),
      );
      yield (out.Items ?? []) as T[];
      start = out.LastEvaluatedKey;
    } while (start);
  }

  /** Candles oldest first: from startTime on if given, else the most recent ones up to endTime. */
  async candles(
    symbol: string,
    interval: string,
    opts: { startTime?: number; endTime?: number; limit: number },
  ): Promise<Candle[]> {
    const ascending = opts.startTime !== undefined;
    if ((opts.startTime ?? 0) > (opts.endTime ?? Number.MAX_SAFE_INTEGER)) return []; // DynamoDB rejects from > to
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': `K#${symbol}#${interval}`,
          ':from': sortableNumber(opts.startTime ?? 0),
          ':to': sortableNumber(opts.endTime ?? Number.MAX_SAFE_INTEGER),
        },
        ScanIndexForward: ascending,
        Limit: opts.limit,
      }),
    );
    const items = (out.Items ?? []) as Candle[];
    return ascending ? items : items.reverse();
  }
}

function toPublicTrade(i: Record<string, unknown>): PublicTrade {
  const t: PublicTrade = {
    id: i.id as number,
    price: i.price as number,
    qty: i.qty as number,
    time: i.time as number,
    isBuyerMaker: i.isBuyerMaker as boolean,
  };
  if (typeof i.takerOrderId === 'number') t.takerOrderId = i.takerOrderId;
  return t;
}

function ignoreConditional(err: unknown): void {
  if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
}
