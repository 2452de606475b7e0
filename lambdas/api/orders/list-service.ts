// Placing and cancelling order lists (OCO, OTO, OTOCO; docs/api.md#order-lists), on the single-order path's rules
// (docs/architecture.md#the-order-pipeline): check → ONE PostgreSQL transaction (replay marker, the list's
// funds lock, the list and its legs, one `placeList` command in the outbox) → send the command to SQS. The
// send is an optimisation: the relay delivers the outbox row if it fails. Funds come back only with the
// engine's answer (a list's ALL_DONE, lambdas/data-processor).
import { randomBytes } from 'node:crypto';
import type { MarketSpec } from '@engine/core/types';
import { messageGroupId, type CommandMessage } from '@contracts/messages';
import { BinanceError } from '@lambdas/shared/http/binance-error';
import type { OrderCounts, OutboxMessage, ReplayMarker } from '@lambdas/shared/ledger/order-repository';
import type {
  AcceptListRequest,
  AcceptListResult,
  OrderListRecord,
  OrderListRepository,
} from '@lambdas/shared/ledger/order-list-repository';
import type { CommandSender } from '@lambdas/shared/outbox/relay';
import { logger } from '@lambdas/shared/powertools';
import { ORDER_LIMITS, type OrderRateLimits } from '@lambdas/shared/rate-limits';
import type { OrderRecord } from '@lambdas/shared/stores/orders';
import type { BookReader } from './order-service';
import { listedMarket, orderRateError } from './order-service';
import { needsBestOpposite } from './plan-order';
import {
  planOco,
  planOto,
  planOtoco,
  type ListPlan,
  type OcoParams,
  type OtocoParams,
  type OtoParams,
} from './plan-list';

export interface ListServiceDeps {
  markets: ReadonlyMap<string, MarketSpec>;
  lists: Pick<OrderListRepository, 'get' | 'getByClientId' | 'requestCancel' | 'listOpen'> & {
    accept(req: AcceptListRequest): Promise<AcceptListResult>;
  };
  sender: CommandSender;
  book: BookReader;
  clock?: () => number;
  maxOpenOrders?: number;
  orderLimits?: OrderRateLimits;
  newClientOrderId?: () => string;
}

/** An accepted list, its legs as recorded, and the account's ORDERS counts with it. */
export interface PlacedList {
  list: OrderListRecord;
  orders: OrderRecord[];
  orderCounts: OrderCounts;
}

export interface ListRef {
  orderListId?: number;
  listClientOrderId?: string;
}

const replayed = () => new BinanceError(400, -1022, 'Signature for this request was already used.');
/** Binance's cancel answer for a list that does not exist (or is not the caller's, or is done). */
const unknownList = () => new BinanceError(400, -2011, 'Unknown order sent.');

export class OrderListService {
  private readonly clock: () => number;

  constructor(private readonly deps: ListServiceDeps) {
    this.clock = deps.clock ?? Date.now;
  }

  market(symbol: string): MarketSpec {
    return listedMarket(this.deps.markets, symbol);
  }

  /** Checks an OCO against Binance's rules and the filters (a trailing stop BUY without a stop reads the book). */
  async planOco(p: OcoParams): Promise<ListPlan> {
    const spec = this.market(p.symbol);
    const best = await this.bestIfNeeded(spec, [p.above, p.below], p.side);
    return planOco(spec, p, p.side === 'BUY' ? best?.ask : best?.bid);
  }

  /** Accepts an OCO (durable once this returns) and hands its one command to SQS. */
  async placeOco(userId: number, p: OcoParams, replay?: ReplayMarker): Promise<PlacedList> {
    return this.placeList(userId, this.market(p.symbol), await this.planOco(p), p.listClientOrderId, replay);
  }

  /** Accepts an OTO: the working leg's funds and the pending leg's, both locked now (Binance). */
  async placeOto(userId: number, p: OtoParams, replay?: ReplayMarker): Promise<PlacedList> {
    const spec = this.market(p.symbol);
    const best = await this.bestIfNeeded(spec, [p.pending], p.pending.side);
    return this.placeList(userId, spec, planOto(spec, p, best), p.listClientOrderId, replay);
  }

  /** Accepts an OTOCO: the working leg's funds and what the pending OCO pair needs, both locked now. */
  async placeOtoco(userId: number, p: OtocoParams, replay?: ReplayMarker): Promise<PlacedList> {
    const spec = this.market(p.symbol);
    const best = await this.bestIfNeeded(spec, [p.pendingAbove, p.pendingBelow], p.pendingSide);
    return this.placeList(userId, spec, planOtoco(spec, p, best), p.listClientOrderId, replay);
  }

  /** The book's best prices, read only when a leg's plan needs them (the single-order rule, planOrder's). */
  private async bestIfNeeded(
    spec: MarketSpec,
    legs: Array<{ type?: string; stopPrice?: string; trailingDelta?: string }>,
    side: string | undefined,
  ): Promise<{ bid?: number; ask?: number } | undefined> {
    return legs.some((leg) => needsBestOpposite({ ...leg, side }))
      ? this.deps.book.bestPrices(spec.symbol)
      : undefined;
  }

  /** One transaction for any list (replay marker, counts, its locks, list, legs, command), then the send. */
  private async placeList(
    userId: number,
    spec: MarketSpec,
    plan: ListPlan,
    requestedListClientOrderId: string | undefined,
    replay?: ReplayMarker,
  ): Promise<PlacedList> {
    const now = this.clock();
    const limits = this.deps.orderLimits ?? ORDER_LIMITS;
    const listClientOrderId = requestedListClientOrderId || this.newClientOrderId();
    const legs = plan.legs.map((leg) => ({
      ...leg,
      clientOrderId: leg.clientOrderId || this.newClientOrderId(),
    }));
    const result = await this.deps.lists.accept({
      userId,
      symbol: spec.symbol,
      listClientOrderId,
      contingencyType: plan.contingencyType,
      orders: legs.map((leg, i) => {
        const cmd = leg.command;
        // Migrations 17/18: the list's lock pays its legs, except an OTO/OTOCO working leg's own lock.
        const ownLock = i === 0 ? plan.workingLock : undefined;
        return {
          userId,
          symbol: spec.symbol,
          clientOrderId: leg.clientOrderId,
          side: cmd.side,
          type: leg.userType,
          timeInForce: cmd.timeInForce ?? 'GTC',
          priceTicks: cmd.price ?? 0,
          qtyLots: cmd.quantity ?? 0,
          quoteQty: 0,
          stopTicks: cmd.stopPrice ?? 0,
          icebergLots: cmd.icebergQuantity ?? 0,
          stpMode: plan.stpMode,
          status: leg.pending ? 'PENDING_NEW' : 'NEW',
          executedLots: 0,
          cumQuote: 0,
          time: now,
          updateTime: now,
          workingTime: -1,
          isWorking: false,
          lockAsset: ownLock?.asset ?? plan.lock.asset,
          lockAmount: (ownLock?.amount ?? 0n).toString(),
          lastSeq: 0,
          ...(cmd.trailingDelta !== undefined ? { trailingDelta: cmd.trailingDelta, trailingTime: -1 } : {}),
        };
      }),
      command: {
        kind: 'placeList',
        market: spec.symbol,
        userId,
        listClientOrderId,
        contingencyType: plan.contingencyType,
        legs: legs.map((leg) => ({ ...leg.command, clientOrderId: leg.clientOrderId })),
        stpMode: plan.stpMode,
        ts: now,
      },
      lock: plan.lock,
      workingLock: plan.workingLock,
      groupId: messageGroupId(spec.symbol, userId),
      maxOpenOrders: this.deps.maxOpenOrders ?? 200,
      orderLimits: limits,
      nowMs: now,
      replay,
    });
    switch (result.outcome) {
      case 'accepted':
        await this.sendNow([result.message]);
        return { list: result.list, orders: result.orders, orderCounts: result.counts };
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

  /** The caller's own list by id or client id (another user's is indistinguishable from a missing one). */
  async find(userId: number, ref: ListRef, symbol?: string): Promise<OrderListRecord | undefined> {
    let list: OrderListRecord | undefined;
    if (ref.orderListId !== undefined) {
      list = await this.deps.lists.get(ref.orderListId);
      // Binance: with both, the list found by id must also carry that client id.
      if (list && ref.listClientOrderId !== undefined && list.listClientOrderId !== ref.listClientOrderId)
        return undefined;
    } else if (ref.listClientOrderId !== undefined) {
      list = await this.deps.lists.getByClientId(userId, ref.listClientOrderId, symbol);
    } else {
      throw new BinanceError(
        400,
        -1102,
        "Param 'origClientOrderId' or 'orderListId' must be sent, but both were empty/null!",
      );
    }
    if (!list || list.userId !== userId || (symbol !== undefined && list.symbol !== symbol)) return undefined;
    return list;
  }

  /** Queues the list's cancel through the outbox; the engine's answer closes every live leg. */
  async cancel(
    userId: number,
    symbol: string,
    ref: ListRef,
    replay?: ReplayMarker,
  ): Promise<OrderListRecord> {
    this.market(symbol);
    if (ref.orderListId === undefined && ref.listClientOrderId === undefined)
      throw new BinanceError(
        400,
        -1102,
        "Param 'listClientOrderId' or 'orderListId' must be sent, but both were empty/null!",
      );
    const list = await this.find(userId, ref, symbol);
    if (!list) throw unknownList();
    const requested = await this.deps.lists.requestCancel(
      userId,
      list.orderListId,
      (l): CommandMessage => ({
        v: 1,
        cmdId: `cl-${l.orderListId}`,
        command: {
          kind: 'cancelList',
          market: l.symbol,
          listId: l.orderListId,
          userId: l.userId,
          ts: this.clock(),
        },
      }),
      messageGroupId(symbol, userId),
      replay,
    );
    if (requested === 'replayed_signature') throw replayed();
    if (!requested) throw unknownList();
    await this.sendNow(requested.messages);
    return requested.list;
  }

  /** DELETE /api/v3/openOrders: queues the cancel of each of the caller's open lists in `symbol`. */
  async cancelAll(userId: number, symbol: string): Promise<OrderListRecord[]> {
    this.market(symbol);
    const cancelled: OrderListRecord[] = [];
    for (const list of await this.deps.lists.listOpen(userId, symbol)) {
      try {
        cancelled.push(await this.cancel(userId, symbol, { orderListId: list.orderListId }));
      } catch (err) {
        if (!(err instanceof BinanceError) || err.code !== -2011) throw err; // done meanwhile
      }
    }
    return cancelled;
  }

  /** The send after commit. A failure is logged, not returned: the list is accepted and the relay delivers. */
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

  private newClientOrderId(): string {
    if (this.deps.newClientOrderId) return this.deps.newClientOrderId();
    return `cirrus${Math.floor(this.clock()).toString(36)}${randomBytes(6).toString('hex')}`;
  }
}
