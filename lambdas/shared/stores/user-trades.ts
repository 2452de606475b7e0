// A user's own fills (Binance /myTrades) in TABLES.trades:
//   pk UT#{userId}#{symbol}  sk {tradeId:16}#{M|T}  (maker and taker legs are separate items; both can belong
//   to one user when self-trade prevention is NONE). gsi1 = O#{orderId} / {tradeId:16}#{M|T} for orderId filters.
// Puts are idempotent: a replayed trade rewrites the same item.
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchWriteAll } from './batch-write';
import { sortableNumber } from './sort-key';

export interface UserTradeRecord {
  userId: number;
  symbol: string;
  tradeId: number;
  orderId: number;
  priceTicks: number;
  qtyLots: number;
  /** price × qty in tick·lots */
  quoteTL: number;
  /** fee in ledger minor units of commissionAsset (decimal string of a bigint) */
  commission: string;
  commissionAsset: string;
  time: number;
  isBuyer: boolean;
  isMaker: boolean;
}

export class UserTradeStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async putAll(trades: UserTradeRecord[]): Promise<void> {
    await batchWriteAll(
      this.db,
      this.table,
      trades.map((t) => ({
        PutRequest: {
          Item: {
            pk: `UT#${t.userId}#${t.symbol}`,
            sk: `${sortableNumber(t.tradeId)}#${t.isMaker ? 'M' : 'T'}`,
            gsi1pk: `O#${t.orderId}`,
            gsi1sk: `${sortableNumber(t.tradeId)}#${t.isMaker ? 'M' : 'T'}`,
            ...t,
          },
        },
      })),
    );
  }

  async list(
    userId: number,
    symbol: string,
    opts: { orderId?: number; fromId?: number; startTime?: number; endTime?: number; limit: number },
  ): Promise<UserTradeRecord[]> {
    const values: Record<string, unknown> = {};
    let key: string;
    if (opts.orderId !== undefined) {
      key = 'gsi1pk = :pk';
      values[':pk'] = `O#${opts.orderId}`;
    } else {
      key = 'pk = :pk AND sk >= :from';
      values[':pk'] = `UT#${userId}#${symbol}`;
      values[':from'] = sortableNumber(opts.fromId ?? 0);
    }
    const filters: string[] = ['userId = :userId', 'symbol = :symbol'];
    values[':userId'] = userId;
    values[':symbol'] = symbol;
    if (opts.startTime !== undefined) {
      filters.push('#time >= :start');
      values[':start'] = opts.startTime;
    }
    if (opts.endTime !== undefined) {
      filters.push('#time <= :end');
      values[':end'] = opts.endTime;
    }
    const items: UserTradeRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: opts.orderId !== undefined ? 'gsi1' : undefined,
          KeyConditionExpression: key,
          FilterExpression: filters.join(' AND '),
          ExpressionAttributeNames: filters.some((f) => f.includes('#time'))
            ? { '#time': 'time' }
            : undefined,
          ExpressionAttributeValues: values,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) {
        const { pk: _pk, sk: _sk, gsi1pk: _g, gsi1sk: _h, ...rest } = item;
        items.push(rest as UserTradeRecord);
      }
      start = items.length >= opts.limit ? undefined : out.LastEvaluatedKey;
    } while (start);
    // Without explicit bounds Binance returns the most recent trades.
    if (opts.fromId === undefined && opts.orderId === undefined && opts.startTime === undefined) {
      return items.slice(-opts.limit);
    }
    return items.slice(0, opts.limit);
  }
}
