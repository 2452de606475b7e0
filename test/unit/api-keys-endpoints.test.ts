// /cirrus/v1/apiKeys through the real handler, signed with real HMACs: key management needs `trade`, a new
// key holds a subset of the calling key's permissions and `withdraw` only with an IP allowlist and a 2FA code
// (that path needs the database: test/integration/api-keys.test.ts), and every refusal is a 4xx Binance
// {code,msg} that changes nothing.
import { createHmac, randomBytes } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Permission, ResolvedKey } from '@lambdas/shared/auth/api-keys';
import { RAW_QUERY_HEADER } from '@lambdas/shared/http/request';

interface Row {
  userId: number;
  secret: string;
  permissions: Permission[];
  label: string;
  revoked: boolean;
}

const token = () =>
  randomBytes(48)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .padEnd(64, 'x')
    .slice(0, 64);

/** The api_keys table, in memory, behind the same interface the handler uses. */
class FakeKeys {
  readonly rows = new Map<string, Row>();

  add(userId: number, permissions: Permission[]) {
    const apiKey = token();
    const secretKey = token();
    this.rows.set(apiKey, { userId, secret: secretKey, permissions, label: '', revoked: false });
    return { apiKey, secretKey };
  }

  async resolve(apiKey: string): Promise<ResolvedKey | undefined> {
    const r = this.rows.get(apiKey);
    return r && !r.revoked
      ? { userId: r.userId, secret: r.secret, permissions: new Set(r.permissions) }
      : undefined;
  }

  async create(userId: number, permissions: Permission[], label = '') {
    const key = this.add(userId, permissions);
    this.rows.get(key.apiKey)!.label = label;
    return key;
  }

  async list(userId: number) {
    return [...this.rows.entries()]
      .filter(([, r]) => r.userId === userId && !r.revoked)
      .map(([apiKey, r]) => ({ apiKey, permissions: r.permissions, label: r.label, createdAt: 0 }));
  }

  async revoke(userId: number, apiKey: string) {
    const r = this.rows.get(apiKey);
    if (!r || r.revoked || r.userId !== userId) return false;
    r.revoked = true;
    return true;
  }

  snapshot() {
    return JSON.stringify([...this.rows.entries()]);
  }
}

const mockKeys = new FakeKeys();
const mockSeen = new Set<string>();
jest.mock('@lambdas/api/context', () => ({
  apiContext: () => ({
    keys: mockKeys,
    auth: {
      keys: mockKeys,
      replay: { firstUse: async (sig: string) => (mockSeen.has(sig) ? false : (mockSeen.add(sig), true)) },
    },
  }),
}));

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('@lambdas/api/users') as typeof import('@lambdas/api/users');

type Key = { apiKey: string; secretKey: string };

/** A signed call as a Binance client sends it: parameters + timestamp, HMAC over the query string (or body). */
async function call(
  method: 'GET' | 'POST' | 'DELETE',
  key: Key,
  params: Record<string, string> = {},
  opts: { inBody?: boolean; rawQuery?: string } = {},
): Promise<{ status: number; body: { code?: number; msg?: string } & Record<string, unknown> }> {
  const payload =
    opts.rawQuery ?? new URLSearchParams({ ...params, timestamp: String(Date.now()) }).toString();
  const signature = createHmac('sha256', key.secretKey).update(payload).digest('hex');
  const inBody = opts.inBody ?? method === 'POST';
  const rawQuery = inBody ? `signature=${signature}` : `${payload}&signature=${signature}`;
  const event = {
    resource: '/cirrus/v1/apiKeys',
    path: '/cirrus/v1/apiKeys',
    httpMethod: method,
    headers: {
      'X-MBX-APIKEY': key.apiKey,
      [RAW_QUERY_HEADER]: rawQuery,
      ...(inBody ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
    },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: inBody ? payload : null,
    isBase64Encoded: false,
    requestContext: { identity: { sourceIp: '10.0.0.1' } } as APIGatewayProxyEvent['requestContext'],
  } as APIGatewayProxyEvent;
  const res = (await handler(event, {} as Context)) as APIGatewayProxyResult;
  return { status: res.statusCode, body: JSON.parse(res.body) };
}

/** A refusal: the status and Binance code expected, and the key table untouched. */
async function refused(
  p: Promise<{ status: number; body: { code?: number; msg?: string } }>,
  before: string,
): Promise<[number, number | undefined, string]> {
  const res = await p;
  expect(mockKeys.snapshot()).toBe(before);
  expect(typeof res.body.msg).toBe('string');
  return [res.status, res.body.code, res.body.msg ?? ''];
}

const USER = 1;
let full: Key; // read + trade (what registration gives)
let readOnly: Key;
let tradeOnly: Key;
let withWithdraw: Key; // minted before this fix, when keys could still get withdraw

beforeEach(() => {
  mockKeys.rows.clear();
  full = mockKeys.add(USER, ['read', 'trade']);
  readOnly = mockKeys.add(USER, ['read']);
  tradeOnly = mockKeys.add(USER, ['trade']);
  withWithdraw = mockKeys.add(USER, ['read', 'trade', 'withdraw']);
});

describe('POST /cirrus/v1/apiKeys', () => {
  it('creates a key with a subset of the calling key, holding only what was asked', async () => {
    const res = await call('POST', full, { permissions: 'read', label: 'tracker' });
    expect(res.status).toBe(200);
    expect(res.body.permissions).toEqual(['read']);
    const created = res.body as unknown as Key;
    expect(mockKeys.rows.get(created.apiKey)).toMatchObject({ permissions: ['read'], label: 'tracker' });
    // The new read-only key cannot manage keys.
    const before = mockKeys.snapshot();
    expect((await refused(call('GET', created), before)).slice(0, 2)).toEqual([401, -2015]);
  });

  it('without permissions, copies the calling key (minus withdraw)', async () => {
    expect((await call('POST', full)).body.permissions).toEqual(['read', 'trade']);
    expect((await call('POST', tradeOnly)).body.permissions).toEqual(['trade']);
    expect((await call('POST', withWithdraw)).body.permissions).toEqual(['read', 'trade']);
  });

  it('accepts the permissions list with an unescaped comma in a signed query string', async () => {
    const q = `permissions=read,trade&label=bot+one&timestamp=${Date.now()}`;
    const res = await call('POST', full, {}, { inBody: false, rawQuery: q });
    expect([res.status, res.body.permissions]).toEqual([200, ['read', 'trade']]);
    expect(mockKeys.rows.get(res.body.apiKey as string)?.label).toBe('bot one');
  });

  it('refuses a permission the calling key lacks: 401 -2015, nothing created', async () => {
    const before = mockKeys.snapshot();
    const [status, code, msg] = await refused(call('POST', tradeOnly, { permissions: 'read,trade' }), before);
    expect([status, code]).toEqual([401, -2015]);
    expect(msg).toContain("lacks 'read'");
  });

  it('refuses key creation to a read-only key: 401 -2015, nothing created', async () => {
    const before = mockKeys.snapshot();
    expect((await refused(call('POST', readOnly, { permissions: 'read' }), before)).slice(0, 2)).toEqual([
      401, -2015,
    ]);
  });

  it.each([
    ['a trade key', () => full, 'read,trade,withdraw'],
    ['a key that holds withdraw', () => withWithdraw, 'withdraw'],
  ])(
    'never grants withdraw to %s without an IP allowlist: 400 -1102 naming ipRestrict',
    async (_n, key, permissions) => {
      const before = mockKeys.snapshot();
      const [status, code, msg] = await refused(call('POST', key(), { permissions }), before);
      expect([status, code]).toEqual([400, -1102]);
      expect(msg).toContain("'ipRestrict'");
    },
  );

  it.each([
    ['not an address', 'localhost'],
    ['one bad among good', '10.0.0.1,300.1.1.1'],
    ['31 addresses', Array.from({ length: 31 }, (_, i) => `10.0.0.${i + 1}`).join(',')],
  ])('refuses an ipRestrict that is %s: 400 -1100, nothing created', async (_n, ipRestrict) => {
    const before = mockKeys.snapshot();
    const [status, code, msg] = await refused(
      call('POST', full, { permissions: 'read', ipRestrict }),
      before,
    );
    expect([status, code]).toEqual([400, -1100]);
    expect(msg).toContain('ipRestrict');
  });

  it.each([
    ['an unknown permission', -1100, { permissions: 'read,admin' }],
    ['an empty permission list', -1100, { permissions: '' }],
    ['a label too long', -1100, { label: 'x'.repeat(65) }],
    ['a label with control characters', -1100, { label: 'a\nb' }],
  ])('refuses %s: 400 %i, nothing created', async (_n, code, params) => {
    const before = mockKeys.snapshot();
    expect((await refused(call('POST', full, params), before)).slice(0, 2)).toEqual([400, code]);
  });

  it('refuses a repeated parameter: 400 -1101, nothing created', async () => {
    const before = mockKeys.snapshot();
    const q = `permissions=read&permissions=trade&timestamp=${Date.now()}`;
    expect(
      (await refused(call('POST', full, {}, { inBody: false, rawQuery: q }), before)).slice(0, 2),
    ).toEqual([400, -1101]);
  });
});

describe('GET /cirrus/v1/apiKeys', () => {
  it('lists the caller’s active keys, never a secret, to a trade key', async () => {
    const res = await call('GET', tradeOnly);
    expect(res.status).toBe(200);
    const listed = res.body as unknown as Array<Record<string, unknown>>;
    expect(listed.map((k) => k.apiKey).sort()).toEqual(
      [full, readOnly, tradeOnly, withWithdraw].map((k) => k.apiKey).sort(),
    );
    expect(JSON.stringify(listed)).not.toContain(full.secretKey);
  });

  it('refuses a read-only key: 401 -2015', async () => {
    const before = mockKeys.snapshot();
    expect((await refused(call('GET', readOnly), before)).slice(0, 2)).toEqual([401, -2015]);
  });
});

describe('DELETE /cirrus/v1/apiKeys', () => {
  it('revokes one of the caller’s keys with a trade key; the revoked key stops working', async () => {
    const res = await call('DELETE', full, { apiKey: readOnly.apiKey });
    expect([res.status, res.body]).toEqual([200, {}]);
    expect(mockKeys.rows.get(readOnly.apiKey)?.revoked).toBe(true);
    const again = await call('DELETE', readOnly, { apiKey: full.apiKey });
    expect([again.status, again.body.code]).toEqual([401, -2015]);
    expect(mockKeys.rows.get(full.apiKey)?.revoked).toBe(false);
  });

  it('refuses a read-only key: 401 -2015, every key still active', async () => {
    const before = mockKeys.snapshot();
    for (const target of [full, tradeOnly, readOnly]) {
      expect(
        (await refused(call('DELETE', readOnly, { apiKey: target.apiKey }), before)).slice(0, 2),
      ).toEqual([401, -2015]);
    }
  });

  it('refuses another user’s key as if unknown: 400 -2015, unchanged', async () => {
    const other = mockKeys.add(2, ['read', 'trade']);
    const before = mockKeys.snapshot();
    expect((await refused(call('DELETE', full, { apiKey: other.apiKey }), before)).slice(0, 2)).toEqual([
      400, -2015,
    ]);
  });

  it('refuses a malformed or missing apiKey: 400 -1100 / -1102, unchanged', async () => {
    const before = mockKeys.snapshot();
    expect((await refused(call('DELETE', full, { apiKey: 'short' }), before)).slice(0, 2)).toEqual([
      400, -1100,
    ]);
    expect((await refused(call('DELETE', full), before)).slice(0, 2)).toEqual([400, -1102]);
  });
});

describe('every key endpoint', () => {
  it.each(['GET', 'POST', 'DELETE'] as const)(
    '%s refuses a malformed API key with -2014 and a bad signature with -1022',
    async (method) => {
      const before = mockKeys.snapshot();
      const bad = { apiKey: 'not-a-key', secretKey: full.secretKey };
      expect(await refused(call(method, bad), before)).toEqual([401, -2014, 'API-key format invalid.']);
      const wrongSecret = { apiKey: full.apiKey, secretKey: token() };
      expect((await refused(call(method, wrongSecret), before)).slice(0, 2)).toEqual([400, -1022]);
    },
  );
});
