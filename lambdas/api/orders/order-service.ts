// Placing and cancelling orders (docs/architecture.md#the-order-pipeline): check → one PostgreSQL transaction
// (replay marker, funds lock, the order, its engine command in the outbox) → send the command to SQS.
// The send is an optimisation, not a step that can undo anything: if it fails, or fails ambiguously, the
// relay delivers the outbox row. Funds are released only by the engine's answer (lambdas/data-processor).
import { randomBytes } from 'node:crypto';
import type { MarketSpec } from '@engine/core/types';
import { commandId, messageGroupId, type CommandMessage } from '@contracts/messages';
import { BinanceError } from '@lambdas/shared/http/binance-error';
import type {
  AcceptRequest,
  AcceptResult,
  OrderCounts,
  OrderRepository,
  OutboxMessage,
  ReplayMarker,
} from '@lambdas/shared/ledger/order-repository';
import type { CommandSender } from '@lambdas/shared/outbox/relay';
import { logger } from '@lambdas/shared/powertools';
import { ORDER_LIMITS, type OrderRateLimits } from '@lambdas/shared/rate-limits';
import { OPEN_STATUSES, type OrderRecord } from '@lambdas/shared/stores/orders';
import type { AmendAnswer } from './answer-waiter';
import { qtyToLots, quoteToNotional } from '@engine/core/market';
import {
  MAX_NUM_ORDER_AMENDS,
  needsBestOpposite,
  planOrder,
  type NewOrderParams,
  type OrderPlan,
} from './plan-order';

export interface BookReader {
  /** Best bid and ask in ticks, from the order-book view. */
  bestPrices(symbol: string): Promise<{ bid?: number; ask?: number }>;
}

export interface OrderServiceDeps {
  markets: ReadonlyMap<string, MarketSpec>;
  orders: Pick<
    OrderRepository,
    'get' | 'getByClientOrderId' | 'listOpen' | 'requestCancel' | 'amendments'
  > & {
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

export const CANCEL_REPLACE_MODES = ['STOP_ON_FAILURE', 'ALLOW_FAILURE'] as const;
export const RATE_LIMIT_EXCEEDED_MODES = ['DO_NOTHING', 'CANCEL_ONLY'] as const;

/** POST /api/v3/order/cancelReplace: the new order's parameters and which order to cancel, and how. */
export interface CancelReplaceParams extends NewOrderParams {
  cancelReplaceMode: (typeof CANCEL_REPLACE_MODES)[number];
  cancelOrderId?: number;
  cancelOrigClientOrderId?: string;
  /** ONLY_NEW or ONLY_PARTIALLY_FILLED (anything else is -1145). */
  cancelRestrictions?: string;
  orderRateLimitExceededMode?: (typeof RATE_LIMIT_EXCEEDED_MODES)[number];
}

/** One half of a cancel-replace: done, or refused with the error Binance would answer for it alone. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: BinanceError };

export interface CancelReplaceResult {
  /** The cancelled order as the engine closed it. */
  cancel: Outcome<OrderRecord>;
  placed: Outcome<PlacedOrder> | 'NOT_ATTEMPTED';
}

/** What a cancel-replace needs from the request's surroundings. */
export interface CancelReplaceIo {
  /** The order once the engine has answered its cancel, or as last seen when the wait runs out. */
  waitClosed(order: OrderRecord): Promise<OrderRecord>;
  /** The account's ORDERS counts now (orderRateLimitExceededMode=DO_NOTHING checks them before the cancel). */
  orderCounts(): Promise<OrderCounts>;
}

/** PUT /api/v3/order/amend/keepPriority: the order (orderId or origClientOrderId) and its new quantity. */
export interface AmendParams extends OrderRef {
  symbol: string;
  newClientOrderId?: string;
  newQty: string;
}

export interface AmendIo {
  /** The engine's answer to the amend command `cmdId` (./answer-waiter.ts), or undefined if none came in time. */
  waitAnswer(order: OrderRecord, newLots: number, cmdId: string): Promise<AmendAnswer | undefined>;
}

const amendRejected = (msg: string) => new BinanceError(400, -2038, msg);
const unknownOrder = () => new BinanceError(400, -2011, 'Unknown order sent.');
const engineTimeout = () =>
  new BinanceError(
    503,
    -1007,
    'Timeout waiting for response from backend server. Send status unknown; execution status unknown.',
  );
const replayed = () => new BinanceError(400, -1022, 'Signature for this request was already used.');

/** The listed market of `symbol`, else -1121 (orders and order lists alike). */
export function listedMarket(markets: ReadonlyMap<string, MarketSpec>, symbol: string): MarketSpec {
  const spec = markets.get(symbol);
  if (!spec) throw new BinanceError(400, -1121, 'Invalid symbol.');
  return spec;
}

export class OrderService {
  private readonly clock: () => number;

  constructor(private readonly deps: OrderServiceDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  market(symbol: string): MarketSpec {
    return listedMarket(this.deps.markets, symbol);
  }

  /** Accepts an order (durable once this returns) and hands its command to SQS. */
  async place(userId: number, params: NewOrderParams, replay?: ReplayMarker): Promise<PlacedOrder> {
    const spec = this.market(params.symbol);
    const plan = await this.plan(spec, params);
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
        ...(cmd.trailingDelta !== undefined ? { trailingDelta: cmd.trailingDelta, trailingTime: -1 } : {}),
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
        // The order row has no trailing columns yet (docs/api.md#trailing-stops): the answer carries them.
        return {
          ...result.order,
          ...(cmd.trailingDelta !== undefined
            ? { trailingDelta: cmd.trailingDelta, trailingTime: result.order.trailingTime ?? -1 }
            : {}),
          orderCounts: result.counts,
        };
      case 'order_rate_10s':
      case 'order_rate_day':
        throw orderRateError(result.outcome === 'order_rate_10s', limits, now, result.counts);
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

  /** Checks the parameters against the market's filters; MARKET by quantity reads the best opposite price. */
  private async plan(spec: MarketSpec, params: NewOrderParams): Promise<OrderPlan> {
    const best = needsBestOpposite(params) ? await this.deps.book.bestPrices(spec.symbol) : undefined;
    return planOrder(spec, params, params.side === 'BUY' ? best?.ask : best?.bid);
  }

  /**
   * Binance's cancel-replace, built from the cancel and place paths so the money rules stay theirs: the
   * cancel goes through the outbox and only the engine's answer closes the order and releases its funds;
   * the new order is placed after that answer, in its own accept transaction, locking its own funds (so it
   * may use what the cancel released). Filters and the ORDERS limits are checked before anything changes,
   * as Binance evaluates them before the cancel. Not one engine step: another order of the market may trade
   * between the two.
   */
  async cancelReplace(
    userId: number,
    p: CancelReplaceParams,
    io: CancelReplaceIo,
    replay?: ReplayMarker,
  ): Promise<CancelReplaceResult> {
    const spec = this.market(p.symbol);
    if (p.cancelOrderId === undefined && p.cancelOrigClientOrderId === undefined) {
      throw new BinanceError(
        400,
        -1102,
        "Param 'cancelOrigClientOrderId' or 'cancelOrderId' must be sent, but both were empty/null!",
      );
    }
    const restriction = p.cancelRestrictions;
    if (restriction !== undefined && restriction !== 'ONLY_NEW' && restriction !== 'ONLY_PARTIALLY_FILLED')
      throw new BinanceError(400, -1145, 'Invalid cancelRestrictions');
    await this.plan(spec, p); // a new order that can never be placed cancels nothing
    const limits = this.deps.orderLimits ?? ORDER_LIMITS;
    if ((p.orderRateLimitExceededMode ?? 'DO_NOTHING') === 'DO_NOTHING') {
      const counts = await io.orderCounts();
      const now = this.clock();
      if (counts.per10s >= limits.per10s) throw orderRateError(true, limits, now, counts);
      if (counts.perDay >= limits.perDay) throw orderRateError(false, limits, now, counts);
    }

    // Cancel. The signature's replay marker is recorded by the first transaction that runs.
    let placeReplay = replay;
    const cancel = await (async (): Promise<Outcome<OrderRecord>> => {
      const order = await this.find(userId, spec.symbol, {
        orderId: p.cancelOrderId,
        origClientOrderId: p.cancelOrigClientOrderId,
      });
      // Binance: with both ids, the order found by id must also carry that client order id.
      const mismatch =
        order !== undefined &&
        p.cancelOrderId !== undefined &&
        p.cancelOrigClientOrderId !== undefined &&
        order.clientOrderId !== p.cancelOrigClientOrderId;
      if (!order || mismatch || !OPEN_STATUSES.has(order.status)) return { ok: false, error: unknownOrder() };
      // Checked against the order's row when the request arrives; a fill after that does not stop the cancel.
      if (
        (restriction === 'ONLY_NEW' && order.status !== 'NEW') ||
        (restriction === 'ONLY_PARTIALLY_FILLED' && order.status !== 'PARTIALLY_FILLED')
      ) {
        return {
          ok: false,
          error: new BinanceError(400, -2011, 'Order was not canceled due to cancel restrictions.'),
        };
      }
      let requested: OrderRecord;
      try {
        requested = await this.requestCancel(order, replay);
      } finally {
        placeReplay = undefined; // requestCancel's transaction recorded it (or found it used: -1022)
      }
      const after = await io.waitClosed(requested);
      if (after.status === 'CANCELED') return { ok: true, value: after };
      // Unanswered: the cancel is queued and will run, so the new order's fate cannot be decided now.
      if (OPEN_STATUSES.has(after.status)) throw engineTimeout();
      return { ok: false, error: unknownOrder() }; // filled or expired before the cancel reached the engine
    })().catch((err: unknown) => {
      if (err instanceof BinanceError && err.code === -2011) return { ok: false as const, error: err };
      throw err;
    });
    if (!cancel.ok && p.cancelReplaceMode === 'STOP_ON_FAILURE') return { cancel, placed: 'NOT_ATTEMPTED' };

    let placed: Outcome<PlacedOrder>;
    try {
      placed = { ok: true, value: await this.place(userId, p, placeReplay) };
    } catch (err) {
      if (!(err instanceof BinanceError)) throw err;
      // A used signature found by the place: the cancel did nothing, so the whole request is the replay.
      if (err.code === -1022) throw err;
      placed = { ok: false, error: err };
    }
    return { cancel, placed };
  }

  /**
   * Binance's amend keep priority: a lower quantity for one of the caller's open orders, as an engine
   * amend command through the outbox (after the order's own place if that is still undelivered). The engine
   * keeps the order's place in its queue; its answer lowers the order row's quantity, and the ledger releases
   * the part of the lock no longer needed in that same settlement (migration 7). Resolves with the order as
   * the engine answered it.
   */
  async amendKeepPriority(
    userId: number,
    p: AmendParams,
    io: AmendIo,
    replay?: ReplayMarker,
  ): Promise<OrderRecord> {
    const spec = this.market(p.symbol);
    if (!/^([0-9]{1,20})(\.[0-9]{1,20})?$/.test(p.newQty))
      throw new BinanceError(
        400,
        -1100,
        "Illegal characters found in parameter 'newQty'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.",
      );
    const newLots = qtyToLots(spec, p.newQty);
    if (newLots === null) throw new BinanceError(400, -1013, 'Filter failure: LOT_SIZE');
    const order = await this.find(userId, spec.symbol, p);
    if (
      order &&
      p.orderId !== undefined &&
      p.origClientOrderId !== undefined &&
      order.clientOrderId !== p.origClientOrderId
    )
      throw new BinanceError(400, -2039, 'Client order ID is not correct for this order ID.');
    if (!order || !OPEN_STATUSES.has(order.status)) throw amendRejected('Unknown order sent.');
    // The client order id lives in the order's row beside its lock, not in the engine, and changes only with
    // the engine's answer on Binance; Cirrus keeps it rather than change it before that answer.
    if (p.newClientOrderId !== undefined && p.newClientOrderId !== order.clientOrderId) {
      throw new BinanceError(
        400,
        -1130,
        "Data sent for parameter 'newClientOrderId' is not valid: Cirrus keeps the order's client order id; send the current one or none.",
      );
    }
    if (newLots > order.qtyLots) throw amendRejected('Order amend (quantity increase) is not supported.');
    if (newLots === order.qtyLots)
      throw amendRejected('The requested action would change no state; rejecting');
    if (newLots <= order.executedLots)
      throw amendRejected('The new quantity must be greater than the executed quantity.');
    if (order.icebergLots > 0 && order.icebergLots >= newLots) throw amendRejected('IcebergQty exceeds QTY.');
    if (
      (await this.deps.orders.amendments(order.orderId, 0, MAX_NUM_ORDER_AMENDS)).length >=
      MAX_NUM_ORDER_AMENDS
    )
      throw amendRejected('Filter failure: MAX_NUM_ORDER_AMENDS');
    // NOTIONAL at the order's limit price, or a stop order's trigger price; an order with neither (an OTO's
    // pending MARKET leg, a trailing stop tracking from entry) has no price to check it at yet.
    const minNotional = quoteToNotional(spec, spec.minNotional) ?? 0;
    const priceTicks = order.priceTicks || order.stopTicks;
    if (priceTicks > 0 && priceTicks * newLots < minNotional)
      throw new BinanceError(400, -1013, 'Filter failure: NOTIONAL');
    // Any open order can be amended, list legs included (docs/api.md#amend-keep-priority): one resting on the
    // book, a stop waiting for its trigger, a leg waiting for its working leg. An OCO pair's other leg takes
    // the same quantity in the engine; what the engine refuses comes back as -2038.

    const cmdId = commandId.amend(order.orderId, randomBytes(8).toString('hex'));
    const requested = await this.deps.orders.requestCancel(
      userId,
      order.orderId,
      (o): CommandMessage => ({
        v: 1,
        cmdId,
        command: {
          kind: 'amend',
          market: o.symbol,
          orderId: o.orderId,
          userId: o.userId,
          newQuantity: newLots,
          ts: this.clock(),
        },
      }),
      messageGroupId(order.symbol, userId),
      replay,
    );
    if (requested === 'replayed_signature') throw replayed();
    if (!requested) throw amendRejected('Unknown order sent.');
    await this.sendNow(requested.messages);
    const answer = await io.waitAnswer(requested.order, newLots, cmdId);
    if (!answer) throw engineTimeout();
    // The order as this amend left it: its quantity and its answer's seq (the answer's executionId), even if
    // a later answer in the same settlement batch moved the row on.
    if (answer.executionId !== undefined)
      return { ...answer.order, qtyLots: newLots, lastSeq: answer.executionId };
    // The engine refused it: the order closed before the amend reached it, or its pair's other leg cannot
    // take the quantity.
    if (!OPEN_STATUSES.has(answer.order.status)) throw amendRejected('Unknown order sent.');
    throw amendRejected('Order amend rejected by the matching engine.');
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

  /** Cancels the caller's open single orders in `symbol` (lists' legs are cancelled by their list's cancel). */
  async cancelAll(userId: number, symbol: string): Promise<OrderRecord[]> {
    this.market(symbol);
    const open = await this.deps.orders.listOpen(userId, symbol);
    const cancelled: OrderRecord[] = [];
    for (const order of open) {
      if (order.orderListId !== undefined) continue;
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

/** Binance's -1015 for an account past its ORDERS limit (per 10 s or per day), with Retry-After. */
export function orderRateError(
  per10s: boolean,
  limits: OrderRateLimits,
  now: number,
  counts: OrderCounts | undefined,
): BinanceError {
  const windowMs = per10s ? 10_000 : 86_400_000;
  return new BinanceError(
    429,
    -1015,
    `Too many new orders; current limit is ${per10s ? limits.per10s : limits.perDay} orders per ${per10s ? '10 SECOND' : 'DAY'}.`,
    undefined,
    {
      'Retry-After': String(Math.ceil((windowMs - (now % windowMs)) / 1000)),
      ...orderCountHeaders(counts),
    },
  );
}

function randomSuffix(): string {
  return randomBytes(6).toString('hex');
}
