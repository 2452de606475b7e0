// Order lists for the property tests (./engine-vs-reference.test.ts, ./engine-snapshot.property.test.ts):
// wraps the seeded flow (test/support/engine-flow.ts) and, after a share of its commands, adds an OCO, OTO or
// OTOCO around the flow's current price (docs/engine.md#order-lists), a cancel of a recent list (cancelList,
// or a cancel of one of its legs, sometimes by another user or of an unknown list), or a refused list (bad
// leg combinations: quantities that differ, wrong types per side or leg, a quote amount, a leg id used
// twice, prices in the wrong order, a live list id). Users and STP modes are drawn like the flow's, so legs
// meet their own user's orders (self-trade prevention across legs and plain orders).
// Order ids: the flow's ids are multiplied by 4 and a list after flow id n takes 4n+1..4n+3, so ids still
// grow with time (a small closed-id memory then forgets them in order, as with the flow alone).
import type {
  Command,
  ContingencyType,
  ListLeg,
  OrderType,
  PlaceListCommand,
  Side,
  StpMode,
} from '@engine/core/types';
import { prng } from '../support/engine-flow';

/** Share of the flow's commands followed by a list command. */
export const LIST_SHARE = 0.06;

export interface ListStats {
  placed: number;
  invalid: number;
  cancels: number;
  amends: number;
}

export const newListStats = (): ListStats => ({ placed: 0, invalid: 0, cancels: 0, amends: 0 });

const ID_SCALE = 4;

export function* withListCommands(
  flow: Iterable<Command>,
  seed: number,
  stats: ListStats = newListStats(),
): Generator<Command> {
  const rnd = prng(seed ^ 0x3c6ef372);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const scale = (id: number) => (Number.isSafeInteger(id) && id > 0 ? id * ID_SCALE : id);
  const mid = new Map<string, number>();
  const recent: Array<{ listId: number; userId: number; market: string; legIds: number[] }> = [];
  let lastId = 0;
  /** The flow id the last list's leg ids came from: one list per flow id. */
  let listAfter = 0;
  let nextListId = 1;
  let ts = 0;

  for (const cmd of flow) {
    ts = cmd.ts;
    if (cmd.kind === 'place') {
      if (Number.isSafeInteger(cmd.orderId) && cmd.orderId > lastId) lastId = cmd.orderId;
      if (cmd.type === 'LIMIT' && cmd.price !== undefined && cmd.price > 0 && cmd.price < 500_000)
        mid.set(cmd.market, cmd.price);
      yield { ...cmd, orderId: scale(cmd.orderId) };
    } else if (cmd.kind === 'cancel' || cmd.kind === 'amend') {
      yield { ...cmd, orderId: scale(cmd.orderId) };
    } else {
      yield cmd;
    }
    if (rnd() >= LIST_SHARE) continue;

    const market = rnd() < 0.5 ? 'TESTA' : 'TESTB';
    const m = mid.get(market) ?? 10_000;
    const r = rnd();
    if (r < 0.22 && recent.length > 0) {
      // Cancel a recent list: the list, or one of its legs; now and then by another user, or an unknown list.
      const target = recent[Math.max(0, recent.length - 1 - int(0, 10))];
      const userId = rnd() < 0.93 ? target.userId : int(1, 6);
      stats.cancels++;
      if (rnd() < 0.5) {
        yield {
          kind: 'cancelList',
          market: target.market,
          listId: rnd() < 0.95 ? target.listId : nextListId + 1_000,
          userId,
          ts,
        };
      } else {
        yield { kind: 'cancel', market: target.market, orderId: pick(target.legIds), userId, ts };
      }
      continue;
    }
    if (r < 0.38 && recent.length > 0) {
      // Amend a recent list's leg: a lower or higher quantity, a new price, or both. Any leg may take a lower
      // quantity (an OCO pair's both legs with it); only an OTO / OTOCO working leg may be re-priced.
      // Mostly the newest lists (older ones are often done), mostly a quantity alone (Binance's amend).
      const target = recent[Math.max(0, recent.length - 1 - int(0, 3))];
      stats.amends++;
      const which = rnd();
      yield {
        kind: 'amend',
        market: target.market,
        orderId: rnd() < 0.5 ? target.legIds[0] : pick(target.legIds),
        userId: target.userId,
        newQuantity: which < 0.8 ? int(1, 30) : undefined,
        newPrice: which >= 0.6 ? m + int(-15, 15) : undefined,
        ts,
      };
      continue;
    }
    if (lastId <= listAfter) continue;
    listAfter = lastId;
    const base = ID_SCALE * lastId;
    const ids = [base + 1, base + 2, base + 3];
    const userId = int(1, 6);
    const stpMode: StpMode =
      rnd() < 0.5 ? 'NONE' : pick(['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'] as const);
    const contingencyType: ContingencyType = pick(['OCO', 'OTO', 'OTOCO'] as const);
    const qty = int(1, 40);
    const side: Side = rnd() < 0.5 ? 'BUY' : 'SELL';
    let legs: ListLeg[];
    if (contingencyType === 'OCO') {
      legs = ocoPair(rnd, int, side, m, qty, ids[0], ids[1]);
    } else {
      const working: ListLeg = {
        orderId: ids[0],
        clientOrderId: `w${ids[0]}`,
        side,
        type: rnd() < 0.8 ? 'LIMIT' : 'LIMIT_MAKER',
        price: m + (side === 'BUY' ? int(-6, 8) : int(-8, 6)),
        quantity: qty,
      };
      if (working.type === 'LIMIT')
        working.timeInForce = rnd() < 0.85 ? 'GTC' : pick(['IOC', 'FOK'] as const);
      if (working.type === 'LIMIT' && working.timeInForce === 'GTC' && rnd() < 0.1) {
        working.quantity = qty + 20;
        working.icebergQuantity = int(3, 10);
      }
      const exitSide: Side = rnd() < 0.8 ? (side === 'BUY' ? 'SELL' : 'BUY') : side;
      if (contingencyType === 'OTOCO') {
        legs = [working, ...ocoPair(rnd, int, exitSide, m, int(1, 40), ids[1], ids[2])];
      } else {
        legs = [working, pendingLeg(rnd, int, exitSide, m, ids[1])];
      }
    }
    const listId = nextListId++;
    let list: PlaceListCommand = {
      kind: 'placeList',
      market,
      listId,
      userId,
      listClientOrderId: `l${listId}`,
      contingencyType,
      legs,
      stpMode,
      ts,
    };
    if (rnd() < 0.12) {
      stats.invalid++;
      list = spoil(list, rnd, int, recent.length > 0 ? recent[recent.length - 1].listId : 0);
    } else {
      stats.placed++;
    }
    recent.push({ listId: list.listId, userId, market, legIds: list.legs.map((l) => l.orderId) });
    if (recent.length > 200) recent.splice(0, 100);
    yield list;
    if (contingencyType !== 'OCO' && rnd() < 0.1) {
      // Right away, a lower quantity for a leg after the working one: still pending unless the working leg
      // filled at once.
      stats.amends++;
      const leg = list.legs[list.legs.length - 1];
      yield {
        kind: 'amend',
        market,
        orderId: leg.orderId,
        userId,
        newQuantity: Math.max(1, (leg.quantity ?? 1) - int(0, 5)),
        ts,
      };
    }
  }
}

/** [above, below] per Binance's rules for `side`, with random leg types, around `m`. */
function ocoPair(
  rnd: () => number,
  int: (lo: number, hi: number) => number,
  side: Side,
  m: number,
  quantity: number,
  aboveId: number,
  belowId: number,
): ListLeg[] {
  const limitType = (['LIMIT_MAKER', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT'] as const)[int(0, 2)];
  const lossType = (['STOP_LOSS', 'STOP_LOSS_LIMIT'] as const)[int(0, 1)];
  const sell = side === 'SELL';
  // SELL: take profit above the market, stop loss below; BUY the other way round.
  const limitRef = sell ? m + int(2, 25) : m - int(2, 25);
  const stopRef = sell ? m - int(2, 25) : m + int(2, 25);
  const limitLeg: ListLeg = { orderId: 0, clientOrderId: '', side, type: limitType, quantity };
  if (limitType === 'LIMIT_MAKER') limitLeg.price = limitRef;
  else {
    limitLeg.stopPrice = limitRef;
    if (limitType === 'TAKE_PROFIT_LIMIT') {
      limitLeg.price = limitRef + (sell ? -int(0, 5) : int(0, 5));
      limitLeg.timeInForce = 'GTC';
    }
    if (rnd() < 0.15) limitLeg.trailingDelta = int(1, 30);
  }
  const stopLeg: ListLeg = {
    orderId: 0,
    clientOrderId: '',
    side,
    type: lossType,
    quantity,
    stopPrice: stopRef,
  };
  if (lossType === 'STOP_LOSS_LIMIT') {
    stopLeg.price = stopRef + (sell ? -int(0, 5) : int(0, 5));
    stopLeg.timeInForce = rnd() < 0.8 ? 'GTC' : 'IOC';
  }
  if (rnd() < 0.15) {
    stopLeg.trailingDelta = int(1, 30);
    if (rnd() < 0.5) delete stopLeg.stopPrice;
  }
  const [above, below] = sell ? [limitLeg, stopLeg] : [stopLeg, limitLeg];
  return [
    { ...above, orderId: aboveId, clientOrderId: `a${aboveId}` },
    { ...below, orderId: belowId, clientOrderId: `b${belowId}` },
  ];
}

/** An OTO's pending leg: any type but a MARKET by quote amount. */
function pendingLeg(
  rnd: () => number,
  int: (lo: number, hi: number) => number,
  side: Side,
  m: number,
  orderId: number,
): ListLeg {
  const types: OrderType[] = ['LIMIT', 'LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS', 'TAKE_PROFIT_LIMIT'];
  const type = types[int(0, types.length - 1)];
  const leg: ListLeg = { orderId, clientOrderId: `p${orderId}`, side, type, quantity: int(1, 40) };
  const away = side === 'BUY' ? -1 : 1;
  if (type === 'LIMIT') {
    leg.price = m + int(-8, 8);
    leg.timeInForce = rnd() < 0.8 ? 'GTC' : 'IOC';
  } else if (type === 'LIMIT_MAKER') {
    leg.price = m + away * int(-2, 15);
  } else if (type === 'STOP_LOSS') {
    leg.stopPrice = m - away * int(-3, 15);
    if (rnd() < 0.3) leg.trailingDelta = int(1, 30);
  } else if (type === 'TAKE_PROFIT_LIMIT') {
    leg.stopPrice = m + away * int(-3, 15);
    leg.price = leg.stopPrice;
    leg.timeInForce = 'GTC';
  }
  return leg;
}

/** One way to make the list invalid (the engines must refuse it whole, for the same reason). */
function spoil(
  cmd: PlaceListCommand,
  rnd: () => number,
  int: (lo: number, hi: number) => number,
  liveListId: number,
): PlaceListCommand {
  const legs = cmd.legs.map((l) => ({ ...l }));
  const last = legs[legs.length - 1];
  switch (int(0, 8)) {
    case 0: // quantities of the OCO pair differ (an OTO has none to differ: a bad leg instead)
      last.quantity = (last.quantity ?? 1) + 1;
      if (cmd.contingencyType === 'OTO') last.price = 0;
      break;
    case 1: // wrong type for the side / leg
      if (cmd.contingencyType === 'OCO') legs.reverse();
      else legs[0].type = rnd() < 0.5 ? 'MARKET' : 'STOP_LOSS_LIMIT';
      break;
    case 2: // a quote amount on a leg
      delete last.quantity;
      last.quoteQuantity = 5_000;
      break;
    case 3: // a leg id used twice
      last.orderId = legs[0].orderId;
      break;
    case 4: // too few or too many legs
      return {
        ...cmd,
        legs: rnd() < 0.5 ? legs.slice(0, 1) : [...legs, { ...last, orderId: last.orderId + 1_000_000_000 }],
      };
    case 5: // the pair on different sides
      last.side = last.side === 'BUY' ? 'SELL' : 'BUY';
      break;
    case 6: // a live list id (or a malformed one)
      return { ...cmd, legs, listId: liveListId > 0 ? liveListId : -1 };
    case 7: // an unknown contingency type or STP mode
      return rnd() < 0.5
        ? { ...cmd, legs, contingencyType: 'OPO' as unknown as ContingencyType }
        : { ...cmd, legs, stpMode: 'DECREMENT' as unknown as StpMode };
    default: // an invalid leg: zero quantity
      legs[0].quantity = 0;
      break;
  }
  return { ...cmd, legs };
}
