export { MatchingEngine, hashSnapshot, CLOSED_ID_MEMORY, type EngineOptions, type OrderView } from './engine';
export type { EngineSnapshot, ListSnapshot, MarketSnapshot, OrderTuple } from './snapshot';
export * from './types';
export {
  rulesFromSpec,
  priceToTicks,
  qtyToLots,
  quoteToNotional,
  ticksToPrice,
  lotsToQty,
  notionalToQuote,
} from './market';
