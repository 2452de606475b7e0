// The rate limits Cirrus enforces and announces (exchangeInfo.rateLimits, GET /api/v3/rateLimit/order), one
// place for both (docs/operations.md#overload-and-rate-limits). Binance spot's defaults; an operator may
// change them per deployment through the environment.
import { z } from 'zod';

const config = z
  .object({
    /** REQUEST_WEIGHT per IP and minute. */
    API_WEIGHT_PER_MINUTE: z.coerce.number().int().positive().default(6_000),
    /** ORDERS per account and 10 seconds. */
    ORDER_LIMIT_10S: z.coerce.number().int().positive().default(100),
    /** ORDERS per account and day (UTC). */
    ORDER_LIMIT_1D: z.coerce.number().int().positive().default(200_000),
  })
  .parse(process.env);

export const REQUEST_WEIGHT_PER_MINUTE = config.API_WEIGHT_PER_MINUTE;

export interface OrderRateLimits {
  per10s: number;
  perDay: number;
}

export const ORDER_LIMITS: OrderRateLimits = {
  per10s: config.ORDER_LIMIT_10S,
  perDay: config.ORDER_LIMIT_1D,
};

export const RATE_LIMITS = [
  { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: REQUEST_WEIGHT_PER_MINUTE },
  { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: ORDER_LIMITS.per10s },
  { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: ORDER_LIMITS.perDay },
];

export const ORDER_RATE_LIMITS = RATE_LIMITS.filter((l) => l.rateLimitType === 'ORDERS');
