// Binance's REQUEST_WEIGHT limit (docs/operations.md#overload-and-rate-limits): every request costs a weight,
// an IP may spend `limitPerMinute` per calendar minute, and the used weight is reported on every response
// in `X-MBX-USED-WEIGHT-1M`. Past the limit: HTTP 429 / -1003 with `Retry-After`; an IP that keeps
// sending after its 429s is banned for a while with HTTP 418, as Binance does.
//
// This counter lives in one container. Locally that is the whole API; in AWS each Lambda container
// counts only what it served, so the cross-container bound per IP is the WAF rate-based rule
// (docs/deploy.md), and this check is the Binance-shaped answer within a container.
import { BinanceError } from './binance-error';
import type { ApiRequest } from './request';

const MINUTE_MS = 60_000;

/** Binance spot weights of the endpoints Cirrus serves; anything else costs 1. */
export function requestWeight(req: Pick<ApiRequest, 'method' | 'resource' | 'params'>): number {
  const p = req.params;
  const symbols = p.symbols ? p.symbols.split(',').length : 0;
  switch (`${req.method} ${req.resource}`) {
    case 'GET /api/v3/exchangeInfo':
      return 20;
    case 'GET /api/v3/depth': {
      const limit = Number(p.limit ?? 100);
      return limit <= 100 ? 5 : limit <= 500 ? 25 : limit <= 1000 ? 50 : 250;
    }
    case 'GET /api/v3/trades':
    case 'GET /api/v3/historicalTrades':
      return 25;
    case 'GET /api/v3/ticker/24hr':
      if (p.symbol || (symbols > 0 && symbols <= 20)) return 2;
      return symbols > 0 && symbols <= 100 ? 40 : 80;
    case 'GET /api/v3/ticker/price':
    case 'GET /api/v3/ticker/bookTicker':
      return p.symbol ? 2 : 4;
    case 'GET /api/v3/klines':
    case 'GET /api/v3/uiKlines':
    case 'GET /api/v3/avgPrice':
      return 2;
    case 'GET /api/v3/aggTrades':
      return 4;
    case 'GET /api/v3/ticker':
      return Math.min(200, 4 * Math.max(1, symbols || (p.symbol ? 1 : 0)));
    case 'GET /api/v3/rateLimit/order':
      return 40;
    case 'GET /sapi/v1/capital/config/getall':
    case 'GET /cirrus/v1/withdrawAddresses': // as Binance's withdraw/address/list
      return 10;
    case 'GET /api/v3/order':
    case 'GET /api/v3/orderList':
      return 4;
    case 'GET /api/v3/openOrderList':
      return 6;
    case 'GET /api/v3/myPreventedMatches':
      return p.orderId ? 20 : 2;
    case 'GET /api/v3/openOrders':
      return p.symbol ? 6 : 80;
    case 'GET /api/v3/allOrders':
    case 'GET /api/v3/allOrderList':
    case 'GET /api/v3/account':
    case 'GET /api/v3/account/commission':
    case 'GET /api/v3/myTrades':
    case 'GET /cirrus/v1/search': // Cirrus's own: a history query, weighed like myTrades
      return 20;
    default:
      return 1;
  }
}

export interface WeightLimiterOptions {
  limitPerMinute: number;
  /** 429s answered to one IP within a minute after which it is banned (HTTP 418). */
  banAfter429s?: number;
  banMs?: number;
  /** Distinct IPs tracked per minute; beyond it new IPs share one bucket (bounded memory). */
  maxTrackedIps?: number;
  clock?: () => number;
}

interface IpUsage {
  used: number;
  rejected: number;
}

export class RequestWeightLimiter {
  private window = -1;
  private usage = new Map<string, IpUsage>();
  private readonly bans = new Map<string, number>();
  private readonly clock: () => number;

  constructor(private readonly opts: WeightLimiterOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  get limitPerMinute(): number {
    return this.opts.limitPerMinute;
  }

  /** Spends `weight` for `ip`; returns the weight used this minute, or throws 429 / 418. */
  spend(ip: string, weight: number): number {
    const now = this.clock();
    const window = Math.floor(now / MINUTE_MS);
    if (window !== this.window) {
      this.window = window;
      this.usage = new Map();
      for (const [banned, until] of this.bans) if (until <= now) this.bans.delete(banned);
    }
    const bannedUntil = this.bans.get(ip);
    if (bannedUntil !== undefined && bannedUntil > now) {
      throw new BinanceError(
        418,
        -1003,
        `Way too much request weight used; IP banned until ${bannedUntil}. Please use WebSocket Streams for live updates to avoid bans.`,
        undefined,
        { 'Retry-After': String(Math.ceil((bannedUntil - now) / 1000)) },
      );
    }
    const key = this.usage.has(ip) || this.usage.size < (this.opts.maxTrackedIps ?? 100_000) ? ip : '*';
    const usage = this.usage.get(key) ?? { used: 0, rejected: 0 };
    this.usage.set(key, usage);
    if (usage.used + weight > this.opts.limitPerMinute) {
      usage.rejected++;
      if (usage.rejected > (this.opts.banAfter429s ?? 100))
        this.bans.set(ip, now + (this.opts.banMs ?? 120_000));
      const retryAfter = Math.ceil(((window + 1) * MINUTE_MS - now) / 1000);
      throw new BinanceError(
        429,
        -1003,
        `Too much request weight used; current limit is ${this.opts.limitPerMinute} request weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid polling the API.`,
        undefined,
        { 'Retry-After': String(retryAfter), 'X-MBX-USED-WEIGHT-1M': String(usage.used) },
      );
    }
    usage.used += weight;
    return usage.used;
  }
}
