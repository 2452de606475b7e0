// Orders in DynamoDB (TABLES.orders): written NEW by the order API before the command is queued, then kept
// in step with engine events by the data processor. Item layout:
//   order    pk O#{orderId}                 sk O   gsi1 U#{userId}#{symbol} / {orderId:16}  (allOrders)
//                                                  gsi2 OPEN#{userId} / {symbol}#{orderId:16} (open orders only)
//   clientId pk C#{userId}#{symbol}#{clientOrderId} sk C  → orderId (unique among open orders, as Binance)
//   counter  pk COUNTER sk orderId          → last allocated order id block
import {
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  paginateQuery,
  paginateScan,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import type { OrderType, Side, StpMode, TimeInForce } from '../../../engine/core/types';

export type OrderStatus =
  'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'REJECTED' | 'EXPIRED' | 'EXPIRED_IN_MATCH';

export const OPEN_STATUSES: ReadonlySet<OrderStatus> = new Set(['NEW', 'PARTIALLY_FILLED']);

/** An order as stored: engine integers (ticks, lots, tick·lots); formatted to decimals at the API edge. */
export interface OrderRecord {
  orderId: number;
  userId: number;
  symbol: string;
  clientOrderId: string;
  side: Side;
  /** The type the user asked for (a protected MARKET order may run in the engine as LIMIT IOC). */
  type: OrderType;
  timeInForce: TimeInForce;
  priceTicks: number;
  qtyLots: number;
  quoteQty: number;
  stopTicks: number;
  icebergLots: number;
  stpMode: StpMode;
  status: OrderStatus;
  executedLots: number;
  cumQuote: number;
  time: number;
  updateTime: number;
  workingTime: number;
  isWorking: boolean;
  /** Asset and amount (ledger minor units, decimal string) locked for this order. */
  lockAsset: string;
  lockAmount: string;
  /** Highest engine seq already reflected in this item (0 = written by the API only). */
  lastSeq: number;
  /** The command message as queued, so an order the engine never answered can be queued again. */
  queuedCommand?: string;
}

/** The fields the data processor sets from engine events: absolute values, so updates are idempotent. */
export interface OrderProgress {
  orderId: number;
  seq: number;
  updateTime: number;
  status?: OrderStatus;
  executedLots?: number;
  cumQuote?: number;
  priceTicks?: number;
  qtyLots?: number;
  isWorking?: boolean;
  workingTime?: number;
}

const pad = (n: number): string => String(n).padStart(16, '0');
const orderKey = (orderId: number) => ({ pk: `O#${orderId}`, sk: 'O' });
const clientKey = (userId: number, symbol: string, clientOrderId: string) => ({
  pk: `C#${userId}#${symbol}#${clientOrderId}`,
  sk: 'C',
});

export class DuplicateClientOrderIdError extends Error {}

export class OrderStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /**
   * Writes a new order and claims its client order id in one transaction; fails with
   * DuplicateClientOrderIdError when that id belongs to an order of the user that is still open.
   */
  async create(order: OrderRecord): Promise<void> {
    try {
      await this.db.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: {
                  ...orderKey(order.orderId),
                  ...order,
                  gsi1pk: `U#${order.userId}#${order.symbol}`,
                  gsi1sk: pad(order.orderId),
                  gsi2pk: `OPEN#${order.userId}`,
                  gsi2sk: `${order.symbol}#${pad(order.orderId)}`,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: {
                  ...clientKey(order.userId, order.symbol, order.clientOrderId),
                  orderId: order.orderId,
                  open: true,
                },
                ConditionExpression: 'attribute_not_exists(pk) OR #open = :false',
                ExpressionAttributeNames: { '#open': 'open' },
                ExpressionAttributeValues: { ':false': false },
              },
            },
          ],
        }),
      );
    } catch (err) {
      const reasons = (err as { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons;
      if (reasons?.[1]?.Code === 'ConditionalCheckFailed') throw new DuplicateClientOrderIdError();
      throw err;
    }
  }

  async get(orderId: number): Promise<OrderRecord | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.table, Key: orderKey(orderId), ConsistentRead: true }),
    );
    return out.Item ? toRecord(out.Item) : undefined;
  }

  async getByClientOrderId(
    userId: number,
    symbol: string,
    clientOrderId: string,
  ): Promise<OrderRecord | undefined> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: clientKey(userId, symbol, clientOrderId),
        ConsistentRead: true,
      }),
    );
    return out.Item ? this.get(out.Item.orderId as number) : undefined;
  }

  /** A user's open orders, optionally in one market (GSI: eventually consistent, as Binance's own). */
  async listOpen(userId: number, symbol?: string): Promise<OrderRecord[]> {
    return this.queryAll({
      IndexName: 'gsi2',
      KeyConditionExpression: symbol ? 'gsi2pk = :pk AND begins_with(gsi2sk, :prefix)' : 'gsi2pk = :pk',
      ExpressionAttributeValues: symbol
        ? { ':pk': `OPEN#${userId}`, ':prefix': `${symbol}#` }
        : { ':pk': `OPEN#${userId}` },
    });
  }

  /** A user's orders in one market, oldest first, from `fromOrderId` on (Binance allOrders). */
  async listAll(
    userId: number,
    symbol: string,
    opts: { fromOrderId?: number; limit: number },
  ): Promise<OrderRecord[]> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'gsi1',
        KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk >= :from',
        ExpressionAttributeValues: { ':pk': `U#${userId}#${symbol}`, ':from': pad(opts.fromOrderId ?? 0) },
        Limit: opts.limit,
      }),
    );
    return (out.Items ?? []).map(toRecord);
  }

  /** Applies engine progress unless a newer (or the same) seq is already reflected. */
  async applyProgress(progress: OrderProgress): Promise<void> {
    const sets: string[] = ['lastSeq = :seq', 'updateTime = :updateTime'];
    const values: Record<string, unknown> = { ':seq': progress.seq, ':updateTime': progress.updateTime };
    const names: Record<string, string> = {};
    const fields: Array<keyof OrderProgress> = [
      'status',
      'executedLots',
      'cumQuote',
      'priceTicks',
      'qtyLots',
      'isWorking',
      'workingTime',
    ];
    for (const field of fields) {
      if (progress[field] === undefined) continue;
      sets.push(`#${field} = :${field}`);
      names[`#${field}`] = field;
      values[`:${field}`] = progress[field];
    }
    const closing = progress.status !== undefined && !OPEN_STATUSES.has(progress.status);
    let updated: Record<string, unknown> | undefined;
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: orderKey(progress.orderId),
          UpdateExpression: `SET ${sets.join(', ')}${closing ? ' REMOVE gsi2pk, gsi2sk' : ''}`,
          ConditionExpression: 'attribute_exists(pk) AND lastSeq < :seq',
          ExpressionAttributeNames: Object.keys(names).length > 0 ? names : undefined,
          ExpressionAttributeValues: values,
          ReturnValues: closing ? 'ALL_NEW' : 'NONE',
        }),
      );
      updated = out.Attributes;
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return; // already reflected
      throw err;
    }
    if (closing && updated) {
      // Frees the client order id for reuse, as Binance does once an order is no longer open.
      const order = toRecord(updated);
      await this.db
        .send(
          new UpdateCommand({
            TableName: this.table,
            Key: clientKey(order.userId, order.symbol, order.clientOrderId),
            UpdateExpression: 'SET #open = :false',
            ConditionExpression: 'orderId = :orderId',
            ExpressionAttributeNames: { '#open': 'open' },
            ExpressionAttributeValues: { ':false': false, ':orderId': progress.orderId },
          }),
        )
        .catch((err: { name?: string }) => {
          if (err.name !== 'ConditionalCheckFailedException') throw err;
        });
    }
  }

  /** An order the engine never received (queueing failed): REJECTED, unless the engine already spoke. */
  async markRejected(orderId: number, now: number): Promise<void> {
    await this.db
      .send(
        new UpdateCommand({
          TableName: this.table,
          Key: orderKey(orderId),
          UpdateExpression: 'SET #status = :rejected, updateTime = :now REMOVE gsi2pk, gsi2sk',
          ConditionExpression: 'lastSeq = :zero',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':rejected': 'REJECTED', ':now': now, ':zero': 0 },
        }),
      )
      .catch((err: { name?: string }) => {
        if (err.name !== 'ConditionalCheckFailedException') throw err;
      });
  }

  /** Orders still waiting for the engine's first answer (lastSeq 0), e.g. after a local queue was lost. */
  async listUnanswered(): Promise<OrderRecord[]> {
    const items: OrderRecord[] = [];
    const pages = paginateScan(
      { client: this.db },
      {
        TableName: this.table,
        FilterExpression: 'begins_with(pk, :o) AND lastSeq = :zero AND #status = :new',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':o': 'O#', ':zero': 0, ':new': 'NEW' },
      },
    );
    for await (const page of pages) items.push(...(page.Items ?? []).map(toRecord));
    return items;
  }

  /** Reserves `count` consecutive order ids; returns the first. */
  async allocateOrderIds(count: number): Promise<number> {
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: 'COUNTER', sk: 'orderId' },
        UpdateExpression: 'ADD lastId :n',
        ExpressionAttributeValues: { ':n': count },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const last = out.Attributes?.lastId as number;
    return last - count + 1;
  }

  private async queryAll(input: {
    IndexName: string;
    KeyConditionExpression: string;
    ExpressionAttributeValues: Record<string, unknown>;
  }): Promise<OrderRecord[]> {
    const items: OrderRecord[] = [];
    for await (const page of paginateQuery({ client: this.db }, { TableName: this.table, ...input }))
      items.push(...(page.Items ?? []).map(toRecord));
    return items;
  }
}

function toRecord(item: Record<string, unknown>): OrderRecord {
  const { pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, gsi2pk: _c, gsi2sk: _d, ...rest } = item;
  return rest as unknown as OrderRecord;
}

/** Hands out order ids from blocks reserved in DynamoDB: one counter write per block, not per order. */
export class OrderIdAllocator {
  private next = 0;
  private end = 0;
  private refill: Promise<void> | undefined;

  constructor(
    private readonly store: Pick<OrderStore, 'allocateOrderIds'>,
    private readonly blockSize = 1000,
  ) {}

  async nextId(): Promise<number> {
    while (this.next >= this.end) {
      this.refill ??= this.store.allocateOrderIds(this.blockSize).then(
        (first) => {
          this.next = first;
          this.end = first + this.blockSize;
          this.refill = undefined;
        },
        (err: unknown) => {
          this.refill = undefined;
          throw err;
        },
      );
      await this.refill;
    }
    return this.next++;
  }
}
