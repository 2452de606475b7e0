// The rate limits Cirrus announces in exchangeInfo; GET /api/v3/rateLimit/order reports the ORDERS ones.
export { ORDER_RATE_LIMITS, RATE_LIMITS } from '../../shared/rate-limits';
