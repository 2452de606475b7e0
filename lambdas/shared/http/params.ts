// Request parameters shared by the REST routes, defined once so every endpoint accepts and refuses the same
// strings (Binance's error codes come from parseParams).
import { z } from 'zod';

export const symbolParam = z.string().regex(/^[A-Z0-9]{2,20}$/);

/** An asset or coin name (`BTC`, `USDT`) and a network name (`ETH`). */
export const assetParam = z.string().regex(/^[A-Z0-9]{1,20}$/);

/** Order and trade ids, times in ms: decimal digits only, small enough to be exact as a number. */
export const idParam = z
  .string()
  .regex(/^\d{1,16}$/)
  .transform(Number);

/** `offset` of a paged history: decimal digits, 0 when absent. */
export const offsetParam = z
  .string()
  .regex(/^\d{1,9}$/)
  .transform(Number)
  .default(0);

/** `limit`: `def` when absent, otherwise 1…`max`. */
export const limitParam = (max: number, def: number) =>
  z
    .string()
    .regex(/^\d{1,5}$/)
    .optional()
    .transform((s) => (s === undefined ? def : Number(s)))
    .refine((n) => n >= 1 && n <= max, { message: `limit must be between 1 and ${max}` });
