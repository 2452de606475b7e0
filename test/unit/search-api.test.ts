// GET /cirrus/v1/search's handler function on real signed requests (HMAC over the query as sent): the
// caller's documents only, even from an index that ignored the scope; operators with scope=ALL see all.
import { createHmac } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { search, type SearchDeps } from '@lambdas/api/search';
import type { Permission, ResolvedKey } from '@lambdas/shared/auth/api-keys';
import { parseRequest } from '@lambdas/shared/http/request';
import { EmbeddedSearchIndex } from '@lambdas/shared/search/embedded';
import type { SearchDoc, SearchQuery, SearchResult } from '@contracts/search-documents';

const key = (n: number) => String(n).repeat(64).slice(0, 64);
const KEYS = new Map<string, ResolvedKey>(
  [1, 2, 3].map((userId) => [
    key(userId),
    { userId, secret: `secret-${userId}`, permissions: new Set<Permission>(['read']) },
  ]),
);

function request(userId: number, query: string): ReturnType<typeof parseRequest> {
  const signed = `${query}${query ? '&' : ''}timestamp=${Date.now()}`;
  const sig = createHmac('sha256', `secret-${userId}`).update(signed).digest('hex');
  const raw = `${signed}&signature=${sig}`;
  return parseRequest({
    resource: '/cirrus/v1/search',
    path: '/cirrus/v1/search',
    httpMethod: 'GET',
    headers: { 'X-MBX-APIKEY': key(userId) },
    multiValueHeaders: {},
    queryStringParameters: Object.fromEntries(new URLSearchParams(raw)),
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
  });
}

const doc = (n: number, userId: number): SearchDoc => ({
  id: `order-${n}`,
  kind: 'order',
  version: 1,
  userId,
  symbol: 'BTCUSDT',
  side: 'BUY',
  status: 'NEW',
  assets: ['BTC', 'USDT'],
  time: n,
  orderId: n,
  clientOrderId: `shared-${n}`,
  tradeId: 0,
  text: `${n} shared-${n} shared`,
  body: { orderId: n },
});

const docs = [doc(1, 1), doc(2, 2), doc(3, 1), doc(4, 2)];

/** An index with a bug: it drops the owner filter. */
class LeakyIndex extends EmbeddedSearchIndex {
  override search(q: SearchQuery): Promise<SearchResult> {
    return super.search({ ...q, userId: undefined });
  }
}

const deps = (index: EmbeddedSearchIndex): SearchDeps => ({
  auth: { keys: { resolve: async (k) => KEYS.get(k) }, replay: { firstUse: async () => true } },
  index,
  operators: new Set([3]),
});

type Answer = { total: number; results: Array<{ id: string; userId: number }> };

describe('search handler', () => {
  it("answers with the caller's documents only", async () => {
    const out = (await search(request(1, 'q=shared'), deps(new EmbeddedSearchIndex(docs)))) as Answer;
    expect(out.results.map((r) => r.id)).toEqual(['order-3', 'order-1']);
    expect(out.total).toBe(2);
  });

  it('never passes on another user’s document, even when the index ignored the scope', async () => {
    const out = (await search(request(2, 'q=shared'), deps(new LeakyIndex(docs)))) as Answer;
    expect(out.results.map((r) => r.userId)).toEqual([2, 2]);
  });

  it('gives an operator with scope=ALL everyone’s documents, and one user’s with userId', async () => {
    const all = (await search(
      request(3, 'q=shared&scope=ALL'),
      deps(new EmbeddedSearchIndex(docs)),
    )) as Answer;
    expect(all.results.map((r) => r.id)).toEqual(['order-4', 'order-3', 'order-2', 'order-1']);
    const one = (await search(
      request(3, 'scope=ALL&userId=2'),
      deps(new EmbeddedSearchIndex(docs)),
    )) as Answer;
    expect(one.results.map((r) => r.id)).toEqual(['order-4', 'order-2']);
    await expect(search(request(1, 'scope=ALL'), deps(new EmbeddedSearchIndex(docs)))).rejects.toMatchObject({
      code: -2015,
    });
  });

  it('refuses a bad signature with -1022', async () => {
    const req = request(1, 'q=shared');
    req.params.signature = '0'.repeat(64);
    await expect(search(req, deps(new LeakyIndex(docs)))).rejects.toMatchObject({ code: -1022 });
  });
});
