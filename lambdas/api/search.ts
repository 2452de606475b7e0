// GET /cirrus/v1/search (SIGNED, read): the caller's orders, trade legs, deposits and withdrawals from the
// search index, by free
// text and filters, newest first, paged (docs/api.md#search). Operators (the user ids in
// SEARCH_OPERATOR_USER_IDS) may pass scope=ALL to search every user's documents.
import { z } from 'zod';
import { MARKETS } from '@contracts/markets';
import { authenticate } from '../shared/auth/signed-request';
import { createApiHandler, parseParams, router, type ApiRequest } from '../shared/http';
import { BinanceError } from '../shared/http/binance-error';
import { assetParam, idParam, symbolParam } from '../shared/http/params';
import { searchIndexFromEnv } from '../shared/search/opensearch';
import {
  LEDGER_KINDS,
  MAX_RESULT_WINDOW,
  type DocKind,
  type SearchDoc,
  type SearchIndex,
  type SearchQuery,
} from '@contracts/search-documents';
import type { AuthDeps } from '../shared/auth/signed-request';
import { searchConfig } from './config';
import { apiContext } from './context';

const ORDER_STATUSES = [
  'NEW',
  'PARTIALLY_FILLED',
  'FILLED',
  'CANCELED',
  'REJECTED',
  'EXPIRED',
  'EXPIRED_IN_MATCH',
  'PENDING_NEW',
] as const;

/** Deposit and withdrawal documents' statuses (a withdrawal's row status, upper-cased). */
const WALLET_STATUSES = ['CREDITED', 'PENDING', 'BROADCAST', 'CONFIRMED', 'FAILED'] as const;

const TYPES = {
  ORDER: 'order',
  TRADE: 'trade',
  DEPOSIT: 'deposit',
  WITHDRAWAL: 'withdrawal',
  LEDGER: 'ledger',
} as const;

/** Free text: letters, digits and the characters of client order ids, words separated by spaces. */
const TEXT = /^[A-Za-z0-9_.\-: ]{1,128}$/;

export const searchParamsSchema = z.object({
  q: z
    .string()
    .regex(TEXT, { message: "legal range is '^[A-Za-z0-9_.\\-: ]{1,128}$'" })
    .refine((s) => s.trim() !== '', { message: 'it must contain a word' })
    .optional(),
  type: z.enum(['ORDER', 'TRADE', 'DEPOSIT', 'WITHDRAWAL', 'LEDGER']).optional(),
  symbol: symbolParam.optional(),
  side: z.enum(['BUY', 'SELL']).optional(),
  status: z.enum([...ORDER_STATUSES, ...WALLET_STATUSES, ...LEDGER_KINDS]).optional(),
  asset: assetParam.optional(),
  startTime: idParam.optional(),
  endTime: idParam.optional(),
  page: z
    .string()
    .regex(/^\d{1,5}$/)
    .optional()
    .transform((s) => (s === undefined ? 1 : Number(s)))
    .refine((n) => n >= 1, { message: 'page must be at least 1' }),
  limit: z
    .string()
    .regex(/^\d{1,3}$/)
    .optional()
    .transform((s) => (s === undefined ? 20 : Number(s)))
    .refine((n) => n >= 1 && n <= 100, { message: 'limit must be between 1 and 100' }),
  scope: z.enum(['USER', 'ALL']).optional(),
  userId: idParam.optional(),
});
export type SearchParams = z.infer<typeof searchParamsSchema>;

const SYMBOLS = new Set(MARKETS.map((m) => m.symbol));

/** The query the caller may run: their own documents, or (operators with scope=ALL) everyone's. */
export function searchQueryFor(callerId: number, isOperator: boolean, p: SearchParams): SearchQuery {
  if (p.symbol !== undefined && !SYMBOLS.has(p.symbol)) throw new BinanceError(400, -1121, 'Invalid symbol.');
  if (p.startTime !== undefined && p.endTime !== undefined && p.startTime > p.endTime)
    throw new BinanceError(400, -1128, 'startTime must be before endTime.');
  if ((p.page - 1) * p.limit + p.limit > MAX_RESULT_WINDOW)
    throw new BinanceError(400, -1128, `page × limit must not exceed ${MAX_RESULT_WINDOW}.`);
  if (p.scope === 'ALL' && !isOperator)
    throw new BinanceError(401, -2015, 'Invalid API-key, IP, or permissions for action.');
  if (p.userId !== undefined && p.scope !== 'ALL')
    throw new BinanceError(400, -1106, "Parameter 'userId' sent when not required.");
  return {
    userId: p.scope === 'ALL' ? p.userId : callerId,
    text: p.q?.trim(),
    kind: p.type === undefined ? undefined : TYPES[p.type],
    symbol: p.symbol,
    side: p.side,
    status: p.status,
    asset: p.asset,
    startTime: p.startTime,
    endTime: p.endTime,
    from: (p.page - 1) * p.limit,
    size: p.limit,
  };
}

/** Each kind's type name and the key its Binance JSON is shown under. */
const RESULT_OF: Record<DocKind, { type: keyof typeof TYPES; key: string }> = {
  order: { type: 'ORDER', key: 'order' },
  trade: { type: 'TRADE', key: 'trade' },
  deposit: { type: 'DEPOSIT', key: 'deposit' },
  withdrawal: { type: 'WITHDRAWAL', key: 'withdrawal' },
  ledger: { type: 'LEDGER', key: 'entry' },
};

export function resultJson(d: SearchDoc) {
  const { type, key } = RESULT_OF[d.kind];
  return { type, id: d.id, userId: d.userId, symbol: d.symbol, time: d.time, [key]: d.body };
}

export interface SearchDeps {
  auth: AuthDeps;
  index: SearchIndex;
  operators: ReadonlySet<number>;
}

export async function search(req: ApiRequest, deps: SearchDeps) {
  const caller = await authenticate(req, 'read', deps.auth);
  const p = parseParams(searchParamsSchema, req.params);
  const query = searchQueryFor(caller.userId, deps.operators.has(caller.userId), p);
  const found = await deps.index.search(query);
  // The index enforces the scope; checked again here so a wrong filter can never leak another user's data.
  const hits = query.userId === undefined ? found.hits : found.hits.filter((d) => d.userId === query.userId);
  return { total: found.total, page: p.page, limit: p.limit, results: hits.map(resultJson) };
}

let deps: SearchDeps | undefined;

export const handler = createApiHandler(
  router({
    'GET /cirrus/v1/search': (req) => {
      deps ??= {
        auth: apiContext().auth,
        index: searchIndexFromEnv(),
        operators: searchConfig().SEARCH_OPERATOR_USER_IDS,
      };
      return search(req, deps);
    },
  }),
);
