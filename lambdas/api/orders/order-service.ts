// Placing and cancelling orders (DESIGN §5): check → lock funds in the ledger → record the order → queue the
// command for the engine. If the order cannot be queued, its lock is released and it is marked REJECTED,
// so no funds stay locked by an order the engine never sees.
import { randomBytes } from 'node:crypto';
import type { MarketSpec } from '../../../engine/core/types';
import { commandId, messageGroupId, type CommandMessage } from '../../../engine/service/messages';
import { BinanceError } from '../../shared/http/binance-error';
import type { LockRequest, LockResult } from '../../shared/ledger/repository';
import { logger } from '../../shared/powertools';
import {
  DuplicateClientOrderIdError,
  OPEN_STATUSES,
  type OrderIdAllocator,
  type OrderRecord,
  type OrderStore,
} from '../../shared/stores/orders';
import { planOrder, type NewOrderParams } from './plan-order';

export interface OrderLedger {
  /** Locks `amount` of `asset` for the order, unless the balance is too small or the open-order cap is hit. */
  lockForOrder(input: LockRequest): Promise<LockResult>;
  /** Releases whatever the order still has locked (idempotent). */
  releaseOrderLock(orderId: number): Promise<void>;
}

export interface CommandQueue {
  send(message: CommandMessage, groupId: string): Promise<void>;
}

export interface BookReader {
  /** Best bid and ask in ticks, from the order-book view. */
  bestPrices(symbol: string): Promise<{ bid?: number; ask?: number }>;
}

export interface OrderServiceDeps {
  markets: ReadonlyMap<string, MarketSpec>;
  orders: Pick<OrderStore, 'create' | 'get' | 'getByClientOrderId' | 'listOpen' | 'markRejected'>;
  ids: Pick<OrderIdAllocator, 'nextId'>;
  ledger: OrderLedger;
  queue: CommandQueue;
  book: BookReader;
  clock?: () => number;
  /** Binance MAX_NUM_ORDERS: open orders per user and market. */
  maxOpenOrders?: number;
  newClientOrderId?: () => string;
}

export interface OrderRef {
  orderId?: number;
  origClientOrderId?: string;
}

const unknownOrder = () => new BinanceError(400, -2011, 'Unknown order sent.');

export class OrderService {
  private readonly clock: () => number;

  constructor(private readonly deps: OrderServiceDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  market(symbol: string): MarketSpec {
    const spec = this.deps.markets.get(symbol);
    if (!spec) throw new BinanceError(400, -1121, 'Invalid symbol.');
    return spec;
  }

  async place(userId: number, params: NewOrderParams): Promise<OrderRecord> {
    const spec = this.market(params.symbol);
    const needsReference =
      params.side === 'BUY' && params.type === 'MARKET' && params.quoteOrderQty === undefined;
    const reference = needsReference ? (await this.deps.book.bestPrices(spec.symbol)).ask : undefined;
    const plan = planOrder(spec, params, reference);

    const orderId = await this.deps.ids.nextId();
    const clientOrderId = params.newClientOrderId || this.newClientOrderId();
    const now = this.clock();
    // The cap is checked in the ledger's lock transaction, so concurrent orders cannot slip past it.
    const locked = await this.deps.ledger.lockForOrder({
      orderId,
      userId,
      market: spec.symbol,
      maxOpenOrders: this.deps.maxOpenOrders ?? 200,
      ...plan.lock,
    });
    if (locked === 'too_many_open_orders')
      throw new BinanceError(400, -2010, 'Filter failure: MAX_NUM_ORDERS');
    if (locked === 'insufficient_balance')
      throw new BinanceError(400, -2010, 'Account has insufficient balance for requested action.');
    const cmd = plan.command;
    const message: CommandMessage = {
      v: 1,
      cmdId: commandId.place(orderId),
      command: { ...cmd, orderId, userId, clientOrderId, ts: now },
    };
    const record: OrderRecord = {
      orderId,
      userId,
      symbol: spec.symbol,
      clientOrderId,
      side: cmd.side,
      type: plan.userType,
      timeInForce: cmd.timeInForce ?? 'GTC',
      priceTicks: plan.userType === 'MARKET' ? 0 : (cmd.price ?? 0),
      qtyLots: cmd.quantity ?? 0,
      quoteQty: cmd.quoteQuantity ?? 0,
      stopTicks: cmd.stopPrice ?? 0,
      icebergLots: cmd.icebergQuantity ?? 0,
      stpMode: cmd.stpMode ?? 'NONE',
      status: 'NEW',
      executedLots: 0,
      cumQuote: 0,
      time: now,
      updateTime: now,
      workingTime: -1,
      isWorking: false,
      lockAsset: plan.lock.asset,
      lockAmount: plan.lock.amount.toString(),
      lastSeq: 0,
      queuedCommand: JSON.stringify(message),
    };
    try {
      await this.deps.orders.create(record);
    } catch (err) {
      await this.deps.ledger.releaseOrderLock(orderId);
      if (err instanceof DuplicateClientOrderIdError)
        throw new BinanceError(400, -2010, 'Duplicate order sent.');
      throw err;
    }
    try {
      await this.deps.queue.send(message, messageGroupId(spec.symbol, userId));
    } catch (err) {
      // The engine never sees this order: give the funds back and say so on the order.
      logger.error('order could not be queued; lock released', {
        orderId,
        err: err instanceof Error ? err.message : String(err),
      });
      await this.deps.ledger.releaseOrderLock(orderId);
      await this.deps.orders.markRejected(orderId, this.clock());
      throw new BinanceError(
        503,
        -1001,
        'Internal error; unable to process your request. Please try again.',
        err,
      );
    }
    return record;
  }

  /** The caller's own order, or -2013 (another user's order is indistinguishable from a missing one). */
  async get(userId: number, symbol: string, ref: OrderRef): Promise<OrderRecord> {
    const order = await this.find(userId, symbol, ref);
    if (!order) throw new BinanceError(400, -2013, 'Order does not exist.');
    return order;
  }

  async cancel(userId: number, symbol: string, ref: OrderRef): Promise<OrderRecord> {
    const order = await this.find(userId, symbol, ref);
    if (!order || !OPEN_STATUSES.has(order.status)) throw unknownOrder();
    await this.sendCancel(order);
    return order;
  }

  async cancelAll(userId: number, symbol: string): Promise<OrderRecord[]> {
    this.market(symbol);
    const open = await this.deps.orders.listOpen(userId, symbol);
    await Promise.all(open.map((o) => this.sendCancel(o)));
    return open;
  }

  private async sendCancel(order: OrderRecord): Promise<void> {
    const message: CommandMessage = {
      v: 1,
      cmdId: commandId.cancel(order.orderId),
      command: {
        kind: 'cancel',
        market: order.symbol,
        orderId: order.orderId,
        userId: order.userId,
        ts: this.clock(),
      },
    };
    try {
      await this.deps.queue.send(message, messageGroupId(order.symbol, order.userId));
    } catch (err) {
      throw new BinanceError(
        503,
        -1001,
        'Internal error; unable to process your request. Please try again.',
        err,
      );
    }
  }

  private async find(userId: number, symbol: string, ref: OrderRef): Promise<OrderRecord | undefined> {
    this.market(symbol);
    let order: OrderRecord | undefined;
    if (ref.orderId !== undefined) order = await this.deps.orders.get(ref.orderId);
    else if (ref.origClientOrderId !== undefined) {
      order = await this.deps.orders.getByClientOrderId(userId, symbol, ref.origClientOrderId);
    } else {
      throw new BinanceError(
        400,
        -1102,
        "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
      );
    }
    // Ownership and market both must match: never reveal another user's order.
    if (!order || order.userId !== userId || order.symbol !== symbol) return undefined;
    return order;
  }

  private newClientOrderId(): string {
    if (this.deps.newClientOrderId) return this.deps.newClientOrderId();
    return `cirrus${Math.floor(this.clock()).toString(36)}${randomSuffix()}`;
  }
}

function randomSuffix(): string {
  return randomBytes(6).toString('hex');
}
