// The OpenSearch wire format Cirrus uses, in one place: the explicit index mapping, a SearchQuery as a
// `_search` body, and that body read back (the local stand-in answers exactly this subset and refuses the
// rest, so a query the client builds differently fails loudly in tests instead of matching nothing).
import { z } from 'zod';
import { DOC_KINDS, INDEX_OF, type DocKind, type SearchQuery } from '@contracts/search-documents';

/** Explicit mappings (`dynamic: strict`): a field nobody declared is refused instead of guessed. */
export const INDEX_MAPPING = {
  settings: { index: { number_of_shards: 1, max_result_window: 10_000 } },
  mappings: {
    dynamic: 'strict',
    properties: {
      id: { type: 'keyword' },
      kind: { type: 'keyword' },
      version: { type: 'long' },
      userId: { type: 'long' },
      symbol: { type: 'keyword' },
      side: { type: 'keyword' },
      status: { type: 'keyword' },
      assets: { type: 'keyword' },
      time: { type: 'date', format: 'epoch_millis' },
      orderId: { type: 'long' },
      clientOrderId: { type: 'keyword' },
      tradeId: { type: 'long' },
      text: { type: 'text', analyzer: 'standard' },
      body: { type: 'object', enabled: false },
    },
  },
} as const;

export const indicesFor = (kind?: DocKind): string[] =>
  kind ? [INDEX_OF[kind]] : DOC_KINDS.map((k) => INDEX_OF[k]);

type Term = Record<string, string | number>;

/** A SearchQuery as the `_search` body: filters in `bool.filter`, free text in `bool.must`. */
export function searchBody(q: SearchQuery): Record<string, unknown> {
  const filter: Array<Record<string, unknown>> = [];
  const term = (field: string, value: string | number | undefined) => {
    if (value !== undefined) filter.push({ term: { [field]: value } satisfies Term });
  };
  term('userId', q.userId);
  term('kind', q.kind);
  term('symbol', q.symbol);
  term('side', q.side);
  term('status', q.status);
  term('assets', q.asset);
  if (q.startTime !== undefined || q.endTime !== undefined) {
    const range: Record<string, number> = {};
    if (q.startTime !== undefined) range.gte = q.startTime;
    if (q.endTime !== undefined) range.lte = q.endTime;
    filter.push({ range: { time: range } });
  }
  // Each word quoted: a client order id like `-abc` or `a*` is a word, never an operator.
  const words = q.text?.split(/\s+/).filter(Boolean) ?? [];
  const must =
    words.length === 0
      ? []
      : [
          {
            simple_query_string: {
              query: words.map((w) => `"${w.replace(/["\\]/g, '')}"`).join(' '),
              fields: ['text'],
              default_operator: 'and',
            },
          },
        ];
  return {
    from: q.from,
    size: q.size,
    track_total_hits: true,
    sort: [{ time: { order: 'desc' } }, { id: { order: 'asc' } }],
    query: { bool: { filter, must } },
  };
}

const termSchema = z.object({
  term: z
    .partialRecord(
      z.enum(['userId', 'kind', 'symbol', 'side', 'status', 'assets']),
      z.union([z.string(), z.number()]),
    )
    .refine((t) => Object.keys(t).length === 1, { message: 'one field per term' }),
});
const rangeSchema = z.object({
  range: z.object({ time: z.object({ gte: z.number().optional(), lte: z.number().optional() }).strict() }),
});
const bodySchema = z
  .object({
    from: z.number().int().nonnegative(),
    size: z.number().int().nonnegative(),
    track_total_hits: z.literal(true),
    sort: z.tuple([
      z.object({ time: z.object({ order: z.literal('desc') }) }),
      z.object({ id: z.object({ order: z.literal('asc') }) }),
    ]),
    query: z.object({
      bool: z.object({
        filter: z.array(z.union([termSchema.strict(), rangeSchema.strict()])),
        must: z
          .array(
            z.object({
              simple_query_string: z.object({
                query: z.string(),
                fields: z.tuple([z.literal('text')]),
                default_operator: z.literal('and'),
              }),
            }),
          )
          .max(1),
      }),
    }),
  })
  .strict();

/** A `_search` body back to a SearchQuery (the stand-in); throws on anything outside the subset above. */
export function queryFromBody(body: unknown): SearchQuery {
  const b = bodySchema.parse(body);
  const q: SearchQuery = { from: b.from, size: b.size };
  for (const f of b.query.bool.filter) {
    if ('range' in f) {
      q.startTime = f.range.time.gte;
      q.endTime = f.range.time.lte;
      continue;
    }
    const [field, value] = Object.entries(f.term)[0];
    if (field === 'userId') q.userId = Number(value);
    else if (field === 'kind') q.kind = z.enum(DOC_KINDS).parse(value);
    else if (field === 'side') q.side = z.enum(['BUY', 'SELL']).parse(value);
    else if (field === 'assets') q.asset = String(value);
    else if (field === 'symbol') q.symbol = String(value);
    else q.status = String(value);
  }
  const text = b.query.bool.must[0]?.simple_query_string.query;
  if (text !== undefined) {
    const words = text.split(' ');
    if (!words.every((w) => /^"[^"]+"$/.test(w))) throw new Error(`unquoted words in ${text}`);
    q.text = words.map((w) => w.slice(1, -1)).join(' ');
  }
  return q;
}
