// The two SearchIndex implementations answer alike: the OpenSearch client (against the stand-in, over HTTP)
// and the embedded index it serves. Owner scope, filters, phrases, paging, versions; the stand-in refuses a
// query outside the subset the client sends; a search before any index exists finds nothing.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { queryFromBody, searchBody } from '@lambdas/shared/search/dsl';
import { EmbeddedSearchIndex } from '@lambdas/shared/search/embedded';
import { OpenSearchIndex } from '@lambdas/shared/search/opensearch';
import type { SearchDoc, SearchQuery } from '@contracts/search-documents';
import { searchConfigSchema } from '@lambdas/api/config';
import { searchParamsSchema, searchQueryFor } from '@lambdas/api/search';
import { startSearch, type SearchStandin } from '@local/standins/search';
import { SearchJournal } from '@local/standins/search-journal';

const doc = (n: number, over: Partial<SearchDoc> = {}): SearchDoc => {
  const userId = over.userId ?? (n % 2) + 1;
  const symbol = over.symbol ?? (n % 3 === 0 ? 'ETHUSDT' : 'BTCUSDT');
  const clientOrderId = `web_${n}-x`;
  return {
    id: `order-${n}`,
    kind: 'order',
    version: 1,
    userId,
    symbol,
    side: n % 4 < 2 ? 'BUY' : 'SELL',
    status: n % 5 === 0 ? 'FILLED' : 'NEW',
    assets: symbol === 'ETHUSDT' ? ['ETH', 'USDT'] : ['BTC', 'USDT'],
    time: 1_000 + (n % 7) * 10,
    orderId: n,
    clientOrderId,
    tradeId: 0,
    text: `${n} ${clientOrderId} ${symbol}`,
    body: { orderId: n, price: '1.00000000' },
    ...over,
  };
};

const docs = [
  ...Array.from({ length: 40 }, (_, i) => doc(i + 1)),
  doc(100, {
    id: 'trade-BTCUSDT-7-M',
    kind: 'trade',
    userId: 2,
    tradeId: 7,
    orderId: 3,
    text: '7 3 web_3-x BTCUSDT',
  }),
];

let standin: SearchStandin;
let client: OpenSearchIndex;

beforeEach(async () => {
  standin = await startSearch({ port: 0 });
  client = new OpenSearchIndex({ url: standin.endpoint });
});
afterEach(async () => {
  await standin.stop();
});

const ids = (r: { hits: SearchDoc[] }) => r.hits.map((d) => d.id);

describe('search index', () => {
  it('finds nothing, without an error, before the indices exist', async () => {
    expect(await client.search({ userId: 1, from: 0, size: 10 })).toEqual({ total: 0, hits: [] });
  });

  const queries: Array<[string, SearchQuery]> = [
    ['owner only', { userId: 1, from: 0, size: 100 }],
    ['everyone (operator)', { from: 0, size: 100 }],
    ['filters', { userId: 2, symbol: 'BTCUSDT', side: 'BUY', status: 'NEW', from: 0, size: 100 }],
    [
      'asset and time range',
      { userId: 1, asset: 'ETH', startTime: 1_010, endTime: 1_040, from: 0, size: 100 },
    ],
    ['client order id as a phrase', { userId: 2, text: 'web_3-x', from: 0, size: 100 }],
    ['words in any order, all required', { text: 'BTCUSDT 7', from: 0, size: 100 }],
    ['a kind', { kind: 'trade', from: 0, size: 100 }],
    ['a second page', { userId: 1, from: 5, size: 5 }],
  ];

  it.each(queries)('the client over HTTP and the embedded index agree: %s', async (_name, q) => {
    const embedded = new EmbeddedSearchIndex(docs);
    expect(await client.bulkIndex(docs)).toEqual({ ok: docs.length, failed: [] });
    const remote = await client.search(q);
    const local = await embedded.search(q);
    expect(remote).toEqual(local);
    for (const d of remote.hits) if (q.userId !== undefined) expect(d.userId).toBe(q.userId);
  });

  it('pins what the queries find', async () => {
    await client.bulkIndex(docs);
    // Newest first: the order (time 1,030) before its fill (1,020).
    expect(ids(await client.search({ userId: 2, text: 'web_3-x', from: 0, size: 10 }))).toEqual([
      'order-3',
      'trade-BTCUSDT-7-M',
    ]);
    // `web_3` is not the phrase `web_3-x`'s prefix match: phrases match whole tokens only.
    expect((await client.search({ text: 'web_30-x', from: 0, size: 10 })).total).toBe(1);
    expect((await client.search({ userId: 1, text: 'web_3-x', from: 0, size: 10 })).total).toBe(0);
    const page = await client.search({ userId: 1, from: 0, size: 3 });
    expect(page.total).toBe(20);
    expect(page.hits.map((d) => d.time)).toEqual([...page.hits.map((d) => d.time)].sort((a, b) => b - a));
  });

  it('keeps the newest version of a document: a replay or an older state changes nothing', async () => {
    await client.bulkIndex([doc(1, { version: 5, status: 'FILLED' })]);
    expect(await client.bulkIndex([doc(1, { version: 5, status: 'NEW' }), doc(1, { version: 2 })])).toEqual({
      ok: 2,
      failed: [],
    });
    expect(standin.documents()).toEqual([doc(1, { version: 5, status: 'FILLED' })]);
    await client.bulkIndex([doc(1, { version: 6, status: 'CANCELED' })]);
    expect(standin.documents().map((d) => d.status)).toEqual(['CANCELED']);
  });

  it('the query body round-trips, and the stand-in refuses anything outside it', async () => {
    const q: SearchQuery = {
      userId: 3,
      text: 'a b',
      kind: 'order',
      startTime: 1,
      endTime: 2,
      from: 4,
      size: 5,
    };
    expect(queryFromBody(searchBody(q))).toEqual(q);
    await client.ensureIndices();
    const res = await fetch(`${standin.endpoint}/cirrus-orders/_search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: { match_all: {} } }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('parsing_exception');
  });
});

describe('the stand-in keeps its documents across a restart (npm start without --fresh)', () => {
  it('reloads indices and documents from its state file, versions included', async () => {
    const stateFile = join(mkdtempSync(join(tmpdir(), 'cirrus-search-')), 'search', 'documents.json');
    const first = await startSearch({ port: 0, stateFile });
    await new OpenSearchIndex({ url: first.endpoint }).bulkIndex([doc(1, { version: 3 }), doc(2)]);
    await first.stop();
    const second = await startSearch({ port: 0, stateFile });
    try {
      const again = new OpenSearchIndex({ url: second.endpoint });
      expect((await again.search({ from: 0, size: 10 })).total).toBe(2);
      // The stored version survived: an older state is still refused.
      await again.bulkIndex([doc(1, { version: 2, status: 'CANCELED' })]);
      expect(second.documents().find((d) => d.id === 'order-1')?.status).toBe(doc(1).status);
    } finally {
      await second.stop();
    }
  });
});

describe('search parameters', () => {
  const parse = (p: Record<string, string>) => searchParamsSchema.parse(p);

  it("scopes a user's query to the user, whatever they ask", () => {
    expect(searchQueryFor(7, false, parse({ q: ' web_1 ', page: '2', limit: '10' }))).toEqual({
      userId: 7,
      text: 'web_1',
      from: 10,
      size: 10,
    });
    expect(() => searchQueryFor(7, false, parse({ scope: 'ALL' }))).toThrow(
      expect.objectContaining({ code: -2015 }),
    );
    expect(searchQueryFor(7, true, parse({ scope: 'ALL' })).userId).toBeUndefined();
    expect(searchQueryFor(7, true, parse({ scope: 'ALL', userId: '9' })).userId).toBe(9);
    expect(searchQueryFor(7, true, parse({})).userId).toBe(7);
  });

  it('reads the operators from SEARCH_OPERATOR_USER_IDS', () => {
    const operators = (v: string | undefined) =>
      searchConfigSchema.parse({ SEARCH_OPERATOR_USER_IDS: v }).SEARCH_OPERATOR_USER_IDS;
    expect([...operators(undefined)]).toEqual([]);
    expect([...operators('3, 14')]).toEqual([3, 14]);
    expect(() => operators('3;14')).toThrow();
  });
});

describe('the stand-in journal (local/standins/search-journal.ts)', () => {
  const dir = () => join(mkdtempSync(join(tmpdir(), 'cirrus-journal-')), 'search');

  it('appends only what was written: the file grows by the new documents, not by all of them', async () => {
    const stateFile = join(dir(), 'journal.jsonl');
    const standin = await startSearch({ port: 0, stateFile });
    const client = new OpenSearchIndex({ url: standin.endpoint });
    await client.bulkIndex(Array.from({ length: 50 }, (_, i) => doc(i + 1)));
    await standin.stop();
    const lines = () => readFileSync(stateFile, 'utf8').trim().split('\n');
    expect(lines().filter((l) => l.startsWith('{"doc"'))).toHaveLength(50);
    const again = await startSearch({ port: 0, stateFile });
    await new OpenSearchIndex({ url: again.endpoint }).bulkIndex([doc(1, { version: 9 }), doc(51)]);
    await again.stop();
    expect(lines().filter((l) => l.startsWith('{"doc"'))).toHaveLength(52);
  });

  it('keeps the newest version of each id, skips a torn last line, and reads the older snapshot file', () => {
    const d = dir();
    mkdirSync(d, { recursive: true });
    const legacy = join(d, 'documents.json');
    writeFileSync(legacy, JSON.stringify({ indices: ['cirrus-orders'], documents: [doc(1), doc(2)] }));
    const fromLegacy = new SearchJournal(join(d, 'journal.jsonl'), legacy).load();
    expect(fromLegacy.indices).toEqual(['cirrus-orders']);
    expect(fromLegacy.documents.map((x) => x.id).sort()).toEqual(['order-1', 'order-2']);

    const file = join(d, 'journal.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ index: 'cirrus-orders' }),
        JSON.stringify({ doc: doc(1, { version: 5, status: 'FILLED' }) }),
        JSON.stringify({ doc: doc(1, { version: 4, status: 'CANCELED' }) }),
        '{"doc":{"id":"order-3","ver',
      ].join('\n'),
    );
    const loaded = new SearchJournal(file, legacy).load();
    expect(loaded.documents).toHaveLength(1);
    expect(loaded.documents[0]).toMatchObject({ id: 'order-1', version: 5, status: 'FILLED' });
  });

  it('compacts into one snapshot once it holds more than twice the live documents plus slack', () => {
    const file = join(dir(), 'journal.jsonl');
    const journal = new SearchJournal(file);
    const live = [doc(1, { version: 20_001 })];
    for (let v = 1; v <= 20_001; v++) journal.written(doc(1, { version: v }));
    journal.flush(1, () => ({ indices: ['cirrus-orders'], documents: live }));
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toEqual({ indices: ['cirrus-orders'], documents: live });
    expect(new SearchJournal(file).load().documents).toEqual(live);
  });
});
