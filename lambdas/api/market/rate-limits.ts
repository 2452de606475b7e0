// The rate limits Cirrus announces in exchangeInfo; GET /api/v3/rateLimit/order reports the ORDERS ones.
export const RATE_LIMITS = [
  { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 },
  { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
];

export const ORDER_RATE_LIMITS = RATE_LIMITS.filter((l) => l.rateLimitType === 'ORDERS');
