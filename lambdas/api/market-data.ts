// Public market data (Binance spot v3): ping, time, exchangeInfo, depth, trades, historicalTrades, aggTrades,
// klines, uiKlines, avgPrice and the tickers; system status; and the futures/options/margin market lists an
// exchange without those products answers (empty), so unmodified Binance clients can load their markets.
// Reads the indexed store the read models keep; decimals formatted from engine integers exactly.
import { z } from 'zod';
import type { MarketSpec } from '@engine/core/types';
import { MARKETS } from '@contracts/markets';
import {
  BinanceError,
  createApiHandler,
  idParam,
  limitParam,
  parseParams,
  router,
  symbolParam,
  type ApiRequest,
} from '../shared/http';
import { CANDLE_INTERVALS, type Candle, type PublicTrade } from '../shared/stores/market-data';
import { marketDataConfig } from './config';
import { apiContext } from './context';
import { DEFAULT_STP_MODE, MAX_NUM_ORDER_AMENDS, TRAILING_DELTA_FILTER } from './orders/plan-order';
import { aggTradeJson, aggregatesBackward, aggregatesForward } from './market/agg-trades';
import { RATE_LIMITS } from '../shared/rate-limits';
import { parseTimeZone, shiftedCandles } from './market/time-zone';
import { parseWindowSize, ratioPrice, tickerFigures, windowCandles, windowStats } from './market/rolling';
import { fixed8, priceText as price, qtyText as qty, quoteText as quote } from '../shared/money';

const bySymbol = new Map(MARKETS.map((m) => [m.symbol, m]));
const market = (symbol: string): MarketSpec => {
  const spec = bySymbol.get(symbol);
  if (!spec) throw new BinanceError(400, -1121, 'Invalid symbol.');
  return spec;
};
const symbolSchema = z.object({ symbol: symbolParam });

function symbolsParam(req: ApiRequest): MarketSpec[] {
  const { symbol, symbols } = req.params;
  if (symbol !== undefined) return [market(symbol)];
  if (symbols !== undefined) {
    let list: unknown;
    try {
      list = JSON.parse(symbols);
    } catch {
      throw new BinanceError(400, -1100, "Illegal characters found in parameter 'symbols'.");
    }
    if (!Array.isArray(list) || list.some((s) => typeof s !== 'string'))
      throw new BinanceError(400, -1100, "Illegal characters found in parameter 'symbols'.");
    return (list as string[]).map(market);
  }
  return MARKETS;
}

function exchangeInfo(req: ApiRequest) {
  return {
    timezone: 'UTC',
    serverTime: Date.now(),
    rateLimits: RATE_LIMITS,
    exchangeFilters: [],
    symbols: symbolsParam(req).map((m) => ({
      symbol: m.symbol,
      status: 'TRADING',
      baseAsset: m.baseAsset,
      baseAssetPrecision: 8,
      quoteAsset: m.quoteAsset,
      quotePrecision: 8,
      quoteAssetPrecision: 8,
      baseCommissionPrecision: 8,
      quoteCommissionPrecision: 8,
      orderTypes: [
        'LIMIT',
        'LIMIT_MAKER',
        'MARKET',
        'STOP_LOSS',
        'STOP_LOSS_LIMIT',
        'TAKE_PROFIT',
        'TAKE_PROFIT_LIMIT',
      ],
      icebergAllowed: true,
      ocoAllowed: true, // docs/api.md#order-lists
      otoAllowed: true, // OTO and OTOCO
      quoteOrderQtyMarketAllowed: true,
      allowTrailingStop: true,
      cancelReplaceAllowed: true,
      amendAllowed: true,
      isSpotTradingAllowed: true,
      isMarginTradingAllowed: false,
      filters: [
        {
          filterType: 'PRICE_FILTER',
          minPrice: fixed8(m.minPrice),
          maxPrice: fixed8(m.maxPrice),
          tickSize: fixed8(m.tickSize),
        },
        {
          filterType: 'LOT_SIZE',
          minQty: fixed8(m.minQty),
          maxQty: fixed8(m.maxQty),
          stepSize: fixed8(m.stepSize),
        },
        { filterType: 'ICEBERG_PARTS', limit: m.maxIcebergParts },
        {
          filterType: 'MARKET_LOT_SIZE',
          minQty: fixed8(m.minQty),
          maxQty: fixed8(m.maxQty),
          stepSize: fixed8(m.stepSize),
        },
        { filterType: 'TRAILING_DELTA', ...TRAILING_DELTA_FILTER },
        {
          filterType: 'NOTIONAL',
          minNotional: fixed8(m.minNotional),
          applyMinToMarket: true,
          maxNotional: '9000000.00000000',
          applyMaxToMarket: false,
          avgPriceMins: 5,
        },
        { filterType: 'MAX_NUM_ORDERS', maxNumOrders: 200 },
        { filterType: 'MAX_NUM_ORDER_AMENDS', maxNumOrderAmends: MAX_NUM_ORDER_AMENDS },
      ],
      permissions: [],
      permissionSets: [['SPOT']],
      defaultSelfTradePreventionMode: DEFAULT_STP_MODE, // what an order without the parameter gets
      allowedSelfTradePreventionModes: ['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
    })),
  };
}

async function depth(req: ApiRequest) {
  const p = parseParams(symbolSchema.extend({ limit: limitParam(5000, 100) }), req.params);
  const spec = market(p.symbol);
  const book = await apiContext().marketData.getBook(spec.symbol);
  const side = (levels: Array<[number, number]>) =>
    levels.slice(0, p.limit).map(([pr, q]) => [price(spec, pr), qty(spec, q)]);
  return { lastUpdateId: book.lastUpdateId, bids: side(book.bids), asks: side(book.asks) };
}

const tradeJson = (spec: MarketSpec, t: PublicTrade) => ({
  id: t.id,
  price: price(spec, t.price),
  qty: qty(spec, t.qty),
  quoteQty: quote(spec, t.price * t.qty),
  time: t.time,
  isBuyerMaker: t.isBuyerMaker,
  isBestMatch: true,
});

async function trades(req: ApiRequest) {
  const p = parseParams(symbolSchema.extend({ limit: limitParam(1000, 500) }), req.params);
  const spec = market(p.symbol);
  return (await apiContext().marketData.recentTrades(spec.symbol, p.limit)).map((t) => tradeJson(spec, t));
}

const id = idParam.optional();

/** Older trades by id: from `fromId` on (oldest first), or the most recent ones. */
async function historicalTrades(req: ApiRequest) {
  const p = parseParams(symbolSchema.extend({ limit: limitParam(1000, 500), fromId: id }), req.params);
  const spec = market(p.symbol);
  const store = apiContext().marketData;
  const list =
    p.fromId === undefined
      ? await store.recentTrades(spec.symbol, p.limit)
      : await store.tradeRange(spec.symbol, { fromId: p.fromId, limit: p.limit });
  return list.map((t) => tradeJson(spec, t));
}

/**
 * Aggregate trades (see market/agg-trades.ts for the grouping and the ids). fromId/startTime read forward
 * from there; endTime alone gives the most recent aggregates up to it; nothing gives the most recent ones.
 */
async function aggTrades(req: ApiRequest) {
  const p = parseParams(
    symbolSchema.extend({ fromId: id, startTime: id, endTime: id, limit: limitParam(1000, 500) }),
    req.params,
  );
  const spec = market(p.symbol);
  const store = apiContext().marketData;
  let groups: PublicTrade[][];
  if (p.fromId !== undefined || p.startTime !== undefined) {
    let fromId = p.fromId ?? 1;
    if (p.startTime !== undefined) {
      // The first trade at or after startTime is in the first 1-minute candle from startTime's minute on.
      const [first] = await store.candles(spec.symbol, '1m', {
        startTime: Math.floor(p.startTime / 60_000) * 60_000,
        endTime: p.endTime,
        limit: 1,
      });
      if (!first) return [];
      fromId = Math.max(fromId, first.firstTradeId);
    }
    groups = await aggregatesForward(store, spec.symbol, { ...p, fromId });
  } else if (p.endTime !== undefined) {
    const [last] = await store.candles(spec.symbol, '1m', { endTime: p.endTime, limit: 1 });
    if (!last) return [];
    groups = await aggregatesBackward(store, spec.symbol, {
      toId: last.lastTradeId,
      endTime: p.endTime,
      limit: p.limit,
    });
  } else {
    groups = await aggregatesBackward(store, spec.symbol, { limit: p.limit });
  }
  return groups.map((g) => aggTradeJson(spec, g));
}

async function klines(req: ApiRequest) {
  const p = parseParams(
    symbolSchema.extend({
      interval: z.string(),
      startTime: id,
      endTime: id,
      timeZone: z.string().optional(),
      limit: limitParam(1000, 500),
    }),
    req.params,
  );
  const spec = market(p.symbol);
  const ms = CANDLE_INTERVALS[p.interval];
  if (!ms) throw new BinanceError(400, -1120, 'Invalid interval.');
  // Candles are stored on UTC boundaries; a time zone that moves the interval's boundaries is served by
  // merging finer candles (market/time-zone.ts).
  const offsetMs = parseTimeZone(p.timeZone) * 60_000;
  const store = apiContext().marketData;
  const candles =
    offsetMs % ms === 0
      ? await store.candles(spec.symbol, p.interval, p)
      : await shiftedCandles(store, spec.symbol, ms, offsetMs, p);
  return candles.map((c: Candle) => [
    c.openTime,
    price(spec, c.o),
    price(spec, c.h),
    price(spec, c.l),
    price(spec, c.c),
    qty(spec, c.v),
    c.openTime + ms - 1,
    quote(spec, c.q),
    c.n,
    qty(spec, c.tbv),
    quote(spec, c.tbq),
    '0',
  ]);
}

async function tickerPrice(req: ApiRequest) {
  const specs = symbolsParam(req);
  const out = await Promise.all(
    specs.map(async (spec) => {
      const [last] = await apiContext().marketData.recentTrades(spec.symbol, 1);
      return { symbol: spec.symbol, price: price(spec, last?.price ?? 0) };
    }),
  );
  return req.params.symbol ? out[0] : out;
}

async function bookTicker(req: ApiRequest) {
  const specs = symbolsParam(req);
  const out = await Promise.all(
    specs.map(async (spec) => {
      const b = await apiContext().marketData.getBook(spec.symbol);
      const [bid, ask] = [b.bids[0] ?? [0, 0], b.asks[0] ?? [0, 0]];
      return {
        symbol: spec.symbol,
        bidPrice: price(spec, bid[0]),
        bidQty: qty(spec, bid[1]),
        askPrice: price(spec, ask[0]),
        askQty: qty(spec, ask[1]),
      };
    }),
  );
  return req.params.symbol ? out[0] : out;
}

/**
 * Rolling 24 h statistics: the same window and arithmetic as /ticker with windowSize 1d (openTime on a minute,
 * the window tiled with the fewest stored candles, weightedAvgPrice with 8 decimals rounded down).
 */
async function ticker24h(req: ApiRequest) {
  const specs = symbolsParam(req);
  const now = Date.now();
  const openTime = Math.floor((now - 86_400_000) / 60_000) * 60_000;
  const out = await Promise.all(
    specs.map(async (spec) => {
      const ctx = apiContext();
      const [candles, book, [last]] = await Promise.all([
        windowCandles(ctx.marketData, spec.symbol, openTime, now),
        ctx.marketData.getBook(spec.symbol),
        ctx.marketData.recentTrades(spec.symbol, 1),
      ]);
      const s = windowStats(candles);
      const f = tickerFigures(spec, s);
      return {
        symbol: spec.symbol,
        priceChange: f.priceChange,
        priceChangePercent: f.priceChangePercent,
        weightedAvgPrice: f.weightedAvgPrice,
        prevClosePrice: f.open,
        lastPrice: f.last,
        lastQty: qty(spec, last?.qty ?? 0),
        bidPrice: price(spec, book.bids[0]?.[0] ?? 0),
        bidQty: qty(spec, book.bids[0]?.[1] ?? 0),
        askPrice: price(spec, book.asks[0]?.[0] ?? 0),
        askQty: qty(spec, book.asks[0]?.[1] ?? 0),
        openPrice: f.open,
        highPrice: f.high,
        lowPrice: f.low,
        volume: f.volume,
        quoteVolume: f.quoteVolume,
        openTime,
        closeTime: now,
        firstId: s.firstId,
        lastId: s.lastId,
        count: s.count,
      };
    }),
  );
  return req.params.symbol ? out[0] : out;
}

/** Average price of the last 5 minutes (quote volume / base volume of their trades), as Binance. */
async function avgPrice(req: ApiRequest) {
  const p = parseParams(symbolSchema, req.params);
  const spec = market(p.symbol);
  const ctx = apiContext();
  const now = Date.now();
  const from = Math.floor(now / 60_000) * 60_000 - 4 * 60_000;
  const [candles, [last]] = await Promise.all([
    ctx.marketData.candles(spec.symbol, '1m', { startTime: from, endTime: now, limit: 5 }),
    ctx.marketData.recentTrades(spec.symbol, 1),
  ]);
  const s = windowStats(candles);
  return {
    mins: 5,
    price: s.volume === 0n ? price(spec, last?.price ?? 0) : ratioPrice(spec, s.quoteVolume, s.volume),
    closeTime: last?.time ?? 0,
  };
}

/** Rolling-window statistics: windowSize (default 1d), type FULL (default) or MINI. */
async function rollingTicker(req: ApiRequest) {
  const p = parseParams(
    z.object({
      symbol: z.string().optional(),
      symbols: z.string().optional(),
      windowSize: z.string().optional(),
      type: z.enum(['FULL', 'MINI']).optional(),
    }),
    req.params,
  );
  if (p.symbol === undefined && p.symbols === undefined)
    throw new BinanceError(
      400,
      -1102,
      "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
    );
  const windowMs = parseWindowSize(p.windowSize);
  const specs = symbolsParam(req);
  const now = Date.now();
  const openTime = Math.floor((now - windowMs) / 60_000) * 60_000;
  const out = await Promise.all(
    specs.map(async (spec) => {
      const s = windowStats(await windowCandles(apiContext().marketData, spec.symbol, openTime, now));
      const f = tickerFigures(spec, s);
      const mini = {
        symbol: spec.symbol,
        openPrice: f.open,
        highPrice: f.high,
        lowPrice: f.low,
        lastPrice: f.last,
        volume: f.volume,
        quoteVolume: f.quoteVolume,
        openTime,
        closeTime: now,
        firstId: s.firstId,
        lastId: s.lastId,
        count: s.count,
      };
      if (p.type === 'MINI') return mini;
      const { symbol, ...rest } = mini;
      return {
        symbol,
        priceChange: f.priceChange,
        priceChangePercent: f.priceChangePercent,
        weightedAvgPrice: f.weightedAvgPrice,
        ...rest,
      };
    }),
  );
  return p.symbol !== undefined ? out[0] : out;
}

/** GET /sapi/v1/system/status: SYSTEM_MAINTENANCE=true (or 1) in the function's configuration reports maintenance. */
export function systemStatus(config: { SYSTEM_MAINTENANCE: boolean } = marketDataConfig()) {
  return config.SYSTEM_MAINTENANCE ? { status: 1, msg: 'system_maintenance' } : { status: 0, msg: 'normal' };
}

// Products Cirrus does not have answer as an exchange without them: no symbols, no pairs.
const noFutures = (futuresType?: string) => ({
  timezone: 'UTC',
  serverTime: Date.now(),
  ...(futuresType ? { futuresType } : {}),
  rateLimits: [],
  exchangeFilters: [],
  ...(futuresType ? { assets: [] } : {}),
  symbols: [],
});

export const handler = createApiHandler(
  router({
    'GET /api/v3/ping': async () => ({}),
    'GET /api/v3/time': async () => ({ serverTime: Date.now() }),
    'GET /api/v3/exchangeInfo': async (req) => exchangeInfo(req),
    'GET /api/v3/depth': depth,
    'GET /api/v3/trades': trades,
    'GET /api/v3/historicalTrades': historicalTrades,
    'GET /api/v3/aggTrades': aggTrades,
    'GET /api/v3/klines': klines,
    'GET /api/v3/uiKlines': klines,
    'GET /api/v3/avgPrice': avgPrice,
    'GET /api/v3/ticker': rollingTicker,
    'GET /api/v3/ticker/24hr': ticker24h,
    'GET /api/v3/ticker/price': tickerPrice,
    'GET /api/v3/ticker/bookTicker': bookTicker,
    'GET /sapi/v1/system/status': async () => systemStatus(),
    'GET /sapi/v1/margin/allPairs': async () => [],
    // Signed on Binance; unsigned here because the answer (no pairs) is the same for everyone, and ccxt sends
    // it in the same millisecond as other parameterless signed calls (same signature: see docs/api.md).
    'GET /sapi/v1/margin/isolated/allPairs': async () => [],
    'GET /fapi/v1/exchangeInfo': async () => noFutures('U_MARGINED'),
    'GET /dapi/v1/exchangeInfo': async () => noFutures(),
    'GET /eapi/v1/exchangeInfo': async () => ({
      timezone: 'UTC',
      serverTime: Date.now(),
      optionContracts: [],
      optionAssets: [],
      optionSymbols: [],
      rateLimits: [],
    }),
  }),
);
