import type { Order } from './order';

/** All orders resting at one price, oldest first, with their visible total kept in step. */
export class PriceLevel {
  head: Order | null = null;
  tail: Order | null = null;
  count = 0;
  visibleTotal = 0;

  constructor(readonly price: number) {}

  pushBack(order: Order): void {
    order.level = this;
    order.prev = this.tail;
    order.next = null;
    if (this.tail) this.tail.next = order;
    else this.head = order;
    this.tail = order;
    this.count++;
    this.visibleTotal += order.visible;
  }

  remove(order: Order): void {
    if (order.prev) order.prev.next = order.next;
    else this.head = order.next;
    if (order.next) order.next.prev = order.prev;
    else this.tail = order.prev;
    order.prev = order.next = null;
    order.level = null;
    this.count--;
    this.visibleTotal -= order.visible;
  }
}
