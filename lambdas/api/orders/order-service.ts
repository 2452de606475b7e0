// Placing and cancelling orders (docs/architecture.md#the-order-pipeline): check → one PostgreSQL transaction
// (replay marker, funds lock, the order, its engine command in the outbox) → send the command to SQS.
// The send is an optimisation, not a step that can undo anything: if it fails, or fails ambiguously, the
// relay delivers the outbox row. Funds are released only by the engine's answer (lambdas/data-processor).
import { randomBytes } from 'node:crypto';
import type { MarketSpec } from '../../../engine/core/types';
import { commandId, messageGroupId, type CommandMessage } from '../../../engine/service/messages';
import { BinanceError } from '../../shared/http/binance-error';
import type {
  AcceptRequest,
  AcceptResult,
  OrderCounts,
  OrderRepository,
  OutboxMessage,
  ReplayMarker,
} from '../../shared/ledger/order-repository';
import type { CommandSender } from '../../shared/outbox/relay';
import { logger } from '../../shared/powertools';
import { ORDER_LIMITS, type OrderRateLimits } from '../../shared/rate-limits';
import type { OrderRecord } from '../../shared/stores/orders';
import { planOrder, type NewOrderParams } from './plan-order';

export interface BookReader {
  /** Best bid and ask in ticks, from the order-book view. */
  bestPrices(symbol: string): Promise<{ bid?: number; ask?: number }>;
}

export interface OrderServiceDeps {
  markets: ReadonlyMap<string, MarketSpec>;
  orders: Pick<OrderRepository, 'get' | 'getByClientOrderId' | 'listOpen' | 'requestCancel'> & {
    accept(req: AcceptRequest): Promise<AcceptResult>;
  };
  sender: CommandSender;
  book: BookReader;
  clock?: () => number;
  /** Binance MAX_NUM_ORDERS: open orders per user and market. */
  maxOpenOrders?: number;
  /** Binance ORDERS limits per account (default: lambdas/shared/rate-limits.ts). */
  orderLimits?: OrderRateLimits;
  newClientOrderId?: () => string;
}

/** An accepted order and the account's ORDERS counts with it (X-MBX-ORDER-COUNT-* headers). */
export type PlacedOrder = OrderRecord & { orderCounts: OrderCounts };

/** Binance's X-MBX-ORDER-COUNT-10S and -1D headers. */
export function orderCountHeaders(counts: OrderCounts | undefined): Record<string, string> {
  return counts
    ? { 'X-MBX-ORDER-COUNT-10S': String(counts.per10s), 'X-MBX-ORDER-COUNT-1D': String(counts.perDay) }
    : {};
}

export interface OrderRef {
  orderId?: number;
  origClientOrderId?: string;
}

const unknownOrder = () => new BinanceError(400, -2011, 'Unknown order sent.');
const replayed = () => new BinanceError(400, -1022, 'Signature for this request was already used.');

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

  /** Accepts an order (durable once this returns) and hands its command to SQS. */
  async place(userId: number, params: NewOrderParams, replay?: ReplayMarker): Promise<PlacedOrder> {
    const spec = this.market(params.symbol);
    // A MARKET order by quantity needs the best opposite price (NOTIONAL check; protection for a BUY).
    const needsReference = params.type === 'MARKET' && params.quoteOrderQty === undefined;
    const best = needsReference ? await this.deps.book.bestPrices(spec.symbol) : undefined;
    const plan = planOrder(spec, params, params.side === 'BUY' ? best?.ask : best?.bid);
    const clientOrderId = params.newClientOrderId || this.newClientOrderId();
    const now = this.clock();
    const limits = this.deps.orderLimits ?? ORDER_LIMITS;
    const cmd = plan.command;
    const result = await this.deps.orders.accept({
      order: {
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
      },
      command: { ...cmd, userId, clientOrderId, ts: now },
      groupId: messageGroupId(spec.symbol, userId),
      maxOpenOrders: this.deps.maxOpenOrders ?? 200,
      orderLimits: limits,
      nowMs: now,
      replay,
    });
    switch (result.outcome) {
      case 'accepted':
        await this.sendNow([result.message]);
        return { ...result.order, orderCounts: result.counts };
      case 'order_rate_10s':
      case 'order_rate_day': {
        const per10s = result.outcome === 'order_rate_10s';
        const windowMs = per10s ? 10_000 : 86_400_000;
        throw new BinanceError(
          429,
          -1015,
          `Too many new orders; current limit is ${per10s ? limits.per10s : limits.perDay} orders per ${per10s ? '10 SECOND' : 'DAY'}.`,
          undefined,
          {
            'Retry-After': String(Math.ceil((windowMs - (now % windowMs)) / 1000)),
            ...orderCountHeaders(result.counts),
          },
        );
      }
      case 'replayed_signature':
        throw replayed();
      case 'duplicate_client_order_id':
        throw new BinanceError(400, -2010, 'Duplicate order sent.');
      case 'too_many_open_orders':
        throw new BinanceError(400, -2010, 'Filter failure: MAX_NUM_ORDERS');
      case 'insufficient_balance':
        throw new BinanceError(400, -2010, 'Account has insufficient balance for requested action.');
    }
  }

  /** The caller's own order, or -2013 (another user's order is indistinguishable from a missing one). */
  async get(userId: number, symbol: string, ref: OrderRef): Promise<OrderRecord> {
    const order = await this.find(userId, symbol, ref);
    if (!order) throw new BinanceError(400, -2013, 'Order does not exist.');
    return order;
  }

  /** Queues a cancel through the outbox; the engine's answer closes the order and releases its funds. */
  async cancel(userId: number, symbol: string, ref: OrderRef, replay?: ReplayMarker): Promise<OrderRecord> {
    const order = await this.find(userId, symbol, ref);
    if (!order) throw unknownOrder();
    return this.requestCancel(order, replay);
  }

  async cancelAll(userId: number, symbol: string): Promise<OrderRecord[]> {
    this.market(symbol);
    const open = await this.deps.orders.listOpen(userId, symbol);
    const cancelled: OrderRecord[] = [];
    for (const order of open) {
      try {
        cancelled.push(await this.requestCancel(order));
      } catch (err) {
        if (!(err instanceof BinanceError) || err.code !== -2011) throw err; // closed meanwhile
      }
    }
    return cancelled;
  }

  private async requestCancel(order: OrderRecord, replay?: ReplayMarker): Promise<OrderRecord> {
    const requested = await this.deps.orders.requestCancel(
      order.userId,
      order.orderId,
      (o): CommandMessage => ({
        v: 1,
        cmdId: commandId.cancel(o.orderId),
        command: { kind: 'cancel', market: o.symbol, orderId: o.orderId, userId: o.userId, ts: this.clock() },
      }),
      messageGroupId(order.symbol, order.userId),
      replay,
    );
    if (requested === 'replayed_signature') throw replayed();
    if (!requested) throw unknownOrder();
    await this.sendNow(requested.messages);
    return requested.order;
  }

  /** The send after commit. A failure is logged, not returned: the order is accepted and the relay delivers. */
  private async sendNow(messages: OutboxMessage[]): Promise<void> {
    try {
      await this.deps.sender.send(messages);
    } catch (err) {
      logger.warn('command not sent after commit; the outbox relay will deliver it', {
        cmdIds: messages.map((m) => m.cmdId),
        err: err instanceof Error ? err.message : String(err),
      });
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
