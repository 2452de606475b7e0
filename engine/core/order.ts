// A live order inside the engine. Intrusive prev/next links put it in its price level's FIFO queue
// without any wrapper allocation.
import type { OrderType, Side, StpMode, TimeInForce } from './types';
import type { OrderList } from './order-list';
import type { PriceLevel } from './price-level';

export class Order {
  prev: Order | null = null;
  next: Order | null = null;
  level: PriceLevel | null = null;

  constructor(
    readonly orderId: number,
    readonly userId: number,
    readonly market: string,
    readonly clientOrderId: string,
    readonly side: Side,
    /** The type it was placed as (a triggered stop keeps it). */
    readonly orderType: OrderType,
    public timeInForce: TimeInForce,
    /** Limit price in ticks; 0 = no limit (market). */
    public price: number,
    /** Total quantity in lots; 0 for a market order by quote amount. */
    public quantity: number,
    readonly quoteQuantity: number,
    readonly stopPrice: number,
    /** Visible slice size of an iceberg; 0 when not an iceberg. */
    readonly icebergQuantity: number,
    readonly stpMode: StpMode,
    readonly ts: number,
    /** Seq of its accepted event: the trigger priority of a stop order. */
    readonly acceptSeq: number,
  ) {}

  executed = 0;
  cumQuote = 0;
  /** Quantity currently shown on the book (the iceberg slice, or everything left). */
  visible = 0;
  /** Trailing stop: the trailing delta in BIPS (1 BIP = 0.01 %); 0 = not a trailing order. */
  trailingDelta = 0;
  /**
   * Trailing stop: the best trade price since it started tracking (lowest for BUY, highest for SELL), in
   * ticks; 0 while not tracking yet (its stopPrice not yet reached, or no trade since entry).
   */
  trailExtreme = 0;
  /** Trailing stop: the last price that triggers it, derived from the extreme (./stop-book.ts setTrailExtreme). */
  trailTrigger = 0;
  /** Trailing stop: engine time (ms) it started tracking; 0 while not tracking yet. */
  trailTime = 0;
  /** Pending stop: when it entered the market's stops (their trigger priority, ./stop-book.ts). */
  stopSeq = 0;
  /** The order list it is a leg of (docs/engine.md#order-lists), and its place among the legs. */
  list: OrderList | null = null;
  listIndex = 0;
  /** An OTO / OTOCO pending leg not placed yet (Binance PENDING_NEW): in no book and no stops. */
  pending = false;
  /** Set once its `closed` event is out. */
  closed = false;

  get remaining(): number {
    return this.quantity - this.executed;
  }

  /** Shows the next slice (iceberg) or everything left. */
  refreshVisible(): void {
    const left = this.remaining;
    this.visible = this.icebergQuantity > 0 ? Math.min(this.icebergQuantity, left) : left;
  }
}
