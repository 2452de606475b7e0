// Order history in DynamoDB (TABLES.orders), behind /allOrders: the data processor writes each order the
// engine touched once per Kinesis batch, whole, from its live row in PostgreSQL (the source of truth for
// live orders, lambdas/shared/ledger/order-repository.ts). Item layout:
//   order    pk O#{orderId}   sk O   gsi1 U#{userId}#{symbol} / {orderId:16}
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchWriteAll } from './batch-write';
import type { OrderType, Side, StpMode, TimeInForce } from '@engine/core/types';
import { sortableNumber } from './sort-key';

export type OrderStatus =
  | 'NEW'
  | 'PARTIALLY_FILLED'
  | 'FILLED'
  | 'CANCELED'
  | 'REJECTED'
  | 'EXPIRED'
  | 'EXPIRED_IN_MATCH'
  /** An OTO/OTOCO pending leg: accepted, placed only once its working leg fills (docs/api.md#order-lists). */
  | 'PENDING_NEW';

export const OPEN_STATUSES: ReadonlySet<OrderStatus> = new Set(['NEW', 'PARTIALLY_FILLED', 'PENDING_NEW']);

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
  /** Highest engine seq already reflected (0 = not answered by the engine yet). */
  lastSeq: number;
  /** Trailing stops only: the delta in BIPS (absent = not a trailing stop). */
  trailingDelta?: number;
  /** Trailing stops only: when it started trailing (ms); -1 or absent while it has not. */
  trailingTime?: number;
  /** The order list it belongs to (docs/api.md#order-lists); absent for a single order (Binance shows -1). */
  orderListId?: number;
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
  /** A trailing stop started trailing at this time (ms). */
  trailingTime?: number;
}

/** Folds `p` into the order's state in `into`: the later seq's values win, fields it lacks are kept. */
export function mergeProgress(into: Map<number, OrderProgress>, p: OrderProgress): void {
  const prev = into.get(p.orderId);
  into.set(p.orderId, prev && prev.seq > p.seq ? prev : { ...prev, ...p });
}

export class OrderStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** Writes the orders' current state whole (BatchWriteItem): the latest row wins, replays rewrite it. */
  async putAll(orders: OrderRecord[]): Promise<void> {
    await batchWriteAll(
      this.db,
      this.table,
      orders.map((o) => ({
        PutRequest: {
          Item: {
            pk: `O#${o.orderId}`,
            sk: 'O',
            ...o,
            gsi1pk: `U#${o.userId}#${o.symbol}`,
            gsi1sk: sortableNumber(o.orderId),
          },
        },
      })),
    );
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
        ExpressionAttributeValues: {
          ':pk': `U#${userId}#${symbol}`,
          ':from': sortableNumber(opts.fromOrderId ?? 0),
        },
        Limit: opts.limit,
      }),
    );
    return (out.Items ?? []).map(toRecord);
  }
}

function toRecord(item: Record<string, unknown>): OrderRecord {
  const { pk: _pk, sk: _sk, gsi1pk: _a, gsi1sk: _b, gsi2pk: _c, gsi2sk: _d, ...rest } = item;
  return rest as unknown as OrderRecord;
}
