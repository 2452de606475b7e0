// An order list (OCO / OTO / OTOCO) as the engine keeps it (docs/engine.md#order-lists).
import type { Order } from './order';
import type { ContingencyType } from './types';

export class OrderList {
  /** The legs in command order; a closed leg's slot is null. */
  readonly legs: Array<Order | null>;
  /** Legs not closed yet. */
  live: number;
  /** OTO / OTOCO: the pending legs wait for the working leg (legs[0]) to fill completely. */
  pending: boolean;
  /**
   * A leg of the one-cancels-the-other pair traded or triggered: it lives on alone (its sibling is
   * expiring). Never state in a snapshot: by then the sibling is closed.
   */
  resolved = false;

  constructor(
    readonly listId: number,
    readonly userId: number,
    readonly listClientOrderId: string,
    readonly contingencyType: ContingencyType,
    /** Every leg's id, in command order (closed legs included). */
    readonly orderIds: number[],
    legs: Array<Order | null>,
    pending: boolean,
  ) {
    this.legs = legs;
    this.live = legs.filter((o) => o !== null).length;
    this.pending = pending;
  }

  /**
   * The other leg of `order`'s one-cancels-the-other pair, if live: both legs of an OCO, the two pending
   * legs of an OTOCO once placed. Null otherwise.
   */
  sibling(order: Order): Order | null {
    if (this.resolved) return null;
    const i = order.listIndex;
    if (this.contingencyType === 'OCO') return this.legs[1 - i];
    if (this.contingencyType === 'OTOCO' && !this.pending && i > 0) return this.legs[3 - i];
    return null;
  }

  /**
   * The other live leg of `order`'s one-cancels-the-other pair for an amend, whether placed or still
   * pending (an OTOCO's pending pair): Binance keeps the pair's quantities equal, so an amend of one leg
   * amends both (faqs/order_amend_keep_priority.md). Null if `order` has no live partner.
   */
  pairOf(order: Order): Order | null {
    if (this.resolved) return null;
    const i = order.listIndex;
    if (this.contingencyType === 'OCO') return this.legs[1 - i];
    if (this.contingencyType === 'OTOCO' && i > 0) return this.legs[3 - i];
    return null;
  }
}
