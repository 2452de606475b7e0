// What the seeded flow (test/support/engine-flow.ts) never reaches on its own, added around it for the
// differential test (./engine-vs-reference.test.ts):
// - prices outside a book side's 65,536-tick direct index (the Map fallback in engine/core/book-side.ts):
//   TESTB's prices are shifted by a regime that moves every REGIME_COMMANDS of its commands, +100,000 ticks
//   first (so each side's window is centred there), then 0 (below the window), then +200,000 (above it), and
//   round again, so levels live on both sides of the window at once and trade across it;
// - refusals the flow's market rules cannot produce: MIN_NOTIONAL (price × quantity, or a quote amount,
//   under the minimum), INVALID_TIME_IN_FORCE (a time in force on a MARKET order, an unknown one), the unknown
//   STP mode, side and order type refusals (INVALID_STP_MODE, INVALID_SIDE, INVALID_ORDER_TYPE), OVERFLOW
//   (notional beyond 2^53, on the WIDE market whose bounds allow it);
// - NO_LIQUIDITY: MARKET orders on WIDE, whose book is mostly empty.
// Injected commands take ids from ranges of their own (above every flow id), so the flow's ids stay as they
// were; on TESTA/TESTB they are all refused, so they never enter the id memory.
import type { Command, MarketRules, PlaceCommand } from '@engine/core/types';
import { prng, TEST_MARKETS } from '../support/engine-flow';
import { profile } from './profile';

/** A market with bounds wide enough for a notional beyond Number.MAX_SAFE_INTEGER. */
export const WIDE: MarketRules = {
  symbol: 'TESTW',
  minPriceTicks: 1,
  maxPriceTicks: 1_000_000_000_000,
  minQtyLots: 1,
  maxQtyLots: 1_000_000_000,
  minNotional: 100,
  maxIcebergParts: 10,
};

export const EDGE_MARKETS: MarketRules[] = [...TEST_MARKETS, WIDE];

/** The market whose prices jump out of (and back into) its direct index. */
export const SHIFTED = 'TESTB';
export const REGIMES = [100_000, 0, 200_000] as const;
const REGIME_COMMANDS = profile(1_500, 500);
/** Prices above this are the flow's deliberately invalid ones: left alone. */
const SHIFTABLE = 500_000;
/** Share of the flow's commands followed by an injected one. */
const EDGE_SHARE = 0.02;

export interface EdgeStats {
  injected: number;
  regimeChanges: number;
}

export const newEdgeStats = (): EdgeStats => ({ injected: 0, regimeChanges: 0 });

const shift = (price: number | undefined, by: number): number | undefined =>
  price !== undefined && Number.isSafeInteger(price) && price > 0 && price <= SHIFTABLE ? price + by : price;

export function* withEdgeCommands(
  flow: Iterable<Command>,
  seed: number,
  stats: EdgeStats = newEdgeStats(),
): Generator<Command> {
  const rnd = prng(seed ^ 0x2545f491);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  let refusedId = 2_000_000_000; // ids of injected places refused on TESTA/TESTB
  let wideId = 3_000_000_000; // ids of WIDE's orders
  let shiftedCommands = 0;
  let ts = 0;
  let malformed = 0;

  for (const cmd of flow) {
    ts = cmd.ts;
    if (cmd.market === SHIFTED) {
      const regime = REGIMES[Math.floor(shiftedCommands / REGIME_COMMANDS) % REGIMES.length];
      if (shiftedCommands > 0 && shiftedCommands % REGIME_COMMANDS === 0) stats.regimeChanges++;
      shiftedCommands++;
      if (cmd.kind === 'place') {
        yield { ...cmd, price: shift(cmd.price, regime), stopPrice: shift(cmd.stopPrice, regime) };
      } else if (cmd.kind === 'amend') {
        yield { ...cmd, newPrice: shift(cmd.newPrice, regime) };
      } else if (cmd.kind === 'placeList' && Array.isArray(cmd.legs)) {
        const legs = cmd.legs.map((l) => ({
          ...l,
          price: shift(l.price, regime),
          stopPrice: shift(l.stopPrice, regime),
        }));
        yield { ...cmd, legs };
      } else {
        yield cmd;
      }
    } else {
      yield cmd;
    }

    if (rnd() >= EDGE_SHARE) continue;
    stats.injected++;
    const side = rnd() < 0.5 ? ('BUY' as const) : ('SELL' as const);
    const userId = int(1, 6);
    const market = rnd() < 0.5 ? 'TESTA' : 'TESTB';
    const refused = (over: Partial<PlaceCommand>): PlaceCommand => {
      const orderId = refusedId++;
      return {
        kind: 'place',
        market,
        orderId,
        userId,
        clientOrderId: `edge${orderId}`,
        side,
        type: 'LIMIT',
        timeInForce: 'GTC',
        price: 10_000,
        quantity: 1,
        ts,
        ...over,
      };
    };
    const wide = (over: Partial<PlaceCommand>): PlaceCommand => {
      const orderId = wideId++;
      return {
        kind: 'place',
        market: WIDE.symbol,
        orderId,
        userId,
        clientOrderId: `wide${orderId}`,
        side,
        type: 'MARKET',
        ts,
        ...over,
      };
    };
    switch (int(0, 9)) {
      case 0: // MIN_NOTIONAL: a limit order worth under 100 tick·lots
        yield refused({ price: int(1, 30), quantity: int(1, 3) });
        break;
      case 1: // MIN_NOTIONAL: a market order for a quote amount under 100
        yield refused({
          type: 'MARKET',
          timeInForce: undefined,
          price: undefined,
          quantity: undefined,
          quoteQuantity: int(1, 99),
        });
        break;
      case 2: // INVALID_TIME_IN_FORCE: MARKET orders take none
        yield refused({ type: 'MARKET', timeInForce: rnd() < 0.5 ? 'GTC' : 'IOC', price: undefined });
        break;
      case 3: {
        // Each malformed field named by its own reason: an unknown time in force (INVALID_TIME_IN_FORCE),
        // STP mode (INVALID_STP_MODE), side (INVALID_SIDE) or order type (INVALID_ORDER_TYPE).
        // In turn rather than at random, so that even the short fast profile reaches all four.
        const pick = malformed++ % 4;
        yield pick === 0
          ? refused({ timeInForce: 'GTD' as unknown as PlaceCommand['timeInForce'] })
          : pick === 1
            ? refused({ stpMode: 'EXPIRE_NONE' as unknown as PlaceCommand['stpMode'] })
            : pick === 2
              ? refused({ side: 'HOLD' as unknown as PlaceCommand['side'] })
              : refused({ type: 'TRAILING' as unknown as PlaceCommand['type'] });
        break;
      }
      case 4: // OVERFLOW: price × quantity beyond 2^53
        yield wide({
          type: 'LIMIT',
          timeInForce: 'GTC',
          price: int(10_000_000, 100_000_000),
          quantity: 1_000_000_000,
        });
        break;
      case 5: // OVERFLOW: a MARKET quantity that could cost more than 2^53 at the highest price
        yield wide({ quantity: int(10_000, 1_000_000) });
        break;
      case 6: // some liquidity on WIDE, so its MARKET orders sometimes trade
        yield wide({ type: 'LIMIT', timeInForce: 'GTC', price: int(9_990, 10_010), quantity: int(1, 20) });
        break;
      default: // MARKET orders on WIDE: NO_LIQUIDITY when its opposite side is empty
        yield rnd() < 0.7 ? wide({ quantity: int(1, 30) }) : wide({ quoteQuantity: int(100, 300_000) });
        break;
    }
  }
}
