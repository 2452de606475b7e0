// API keys and signing over real HTTP against the local exchange: signatures over the bytes as sent (',' raw,
// lower-case escapes, '+'), duplicates refused, keys that cannot mint stronger keys, revocation at once.
import { createHmac } from 'node:crypto';
import type { ApiKey, ApiResponse } from '../support/binance-client';
import { startTestExchange, type TestExchange } from '../support/exchange-helpers';

jest.setTimeout(180_000);

let harness: TestExchange;

beforeAll(async () => {
  harness = await startTestExchange(1_000);
});

afterAll(async () => {
  await harness?.stop();
});

type Err = { code: number; msg: string };
type Created = ApiKey & { permissions: string[] };
type Listed = Array<{ apiKey: string; permissions: string[]; label: string }>;

const hmac = (secret: string, payload: string) => createHmac('sha256', secret).update(payload).digest('hex');

/** A request whose query string is sent exactly as given, signed over exactly those bytes (plus the body). */
function rawSigned<T>(
  method: string,
  path: string,
  key: ApiKey,
  query: string,
  body?: { text: string; type: string },
): Promise<ApiResponse<T>> {
  const sig = hmac(key.secretKey, query + (body?.text ?? ''));
  return harness.api.raw<T>(method, `${path}?${query}&signature=${sig}`, body?.text, {
    'X-MBX-APIKEY': key.apiKey,
    ...(body ? { 'content-type': body.type } : {}),
  });
}

async function keysOf(key: ApiKey): Promise<Listed> {
  const res = await harness.api.signed<Listed>('GET', '/cirrus/v1/apiKeys', key);
  expect(res.status).toBe(200);
  return res.body;
}

describe('API keys over HTTP', () => {
  it('a read-only key reads but cannot list, create or revoke keys; withdraw is never granted without 2FA and an IP allowlist', async () => {
    const { api, alice } = harness;
    const created = await api.signed<Created>('POST', '/cirrus/v1/apiKeys', alice, {
      permissions: 'read',
      label: 'tracker',
    });
    expect([created.status, created.body.permissions]).toEqual([200, ['read']]);
    const reader = created.body;
    expect((await api.signed('GET', '/api/v3/account', reader)).status).toBe(200);

    const before = await keysOf(alice);
    for (const [method, params] of [
      ['GET', {}],
      ['POST', { permissions: 'read' }],
      ['DELETE', { apiKey: alice.apiKey }],
    ] as const) {
      const res = await api.signed<Err>(method, '/cirrus/v1/apiKeys', reader, params);
      expect([res.status, res.body.code]).toEqual([401, -2015]);
    }
    // withdraw: never without an IP allowlist, nor without 2FA (the granting path: withdrawals-protections).
    const withdraw = await api.signed<Err>('POST', '/cirrus/v1/apiKeys', alice, {
      permissions: 'read,withdraw',
    });
    expect([withdraw.status, withdraw.body.code]).toEqual([400, -1102]);
    expect(withdraw.body.msg).toContain("'ipRestrict'");
    const no2fa = await api.signed<Err>('POST', '/cirrus/v1/apiKeys', alice, {
      permissions: 'read,withdraw',
      ipRestrict: '127.0.0.1',
    });
    expect([no2fa.status, no2fa.body.code]).toEqual([400, -1130]);
    expect(no2fa.body.msg).toContain('needs 2FA');
    expect(await keysOf(alice)).toEqual(before);

    // Revoked: refused at once.
    const revoked = await api.signed('DELETE', '/cirrus/v1/apiKeys', alice, { apiKey: reader.apiKey });
    expect(revoked.status).toBe(200);
    const after = await api.signed<Err>('GET', '/api/v3/account', reader);
    expect([after.status, after.body.code]).toEqual([401, -2015]);
  });

  it("verifies the query string as sent: ',' unescaped, lower-case escapes, '+' for a space", async () => {
    const { alice } = harness;
    const q = `permissions=read,trade&label=bot+one%2ctwo&recvWindow=6000.346&timestamp=${Date.now()}`;
    const res = await rawSigned<Created>('POST', '/cirrus/v1/apiKeys', alice, q);
    expect([res.status, res.body.permissions]).toEqual([200, ['read', 'trade']]);
    const listed = (await keysOf(alice)).find((k) => k.apiKey === res.body.apiKey);
    expect(listed?.label).toBe('bot one,two');
  });

  it('verifies a JSON body byte for byte, the signature in the query string', async () => {
    const { alice } = harness;
    const text = `{ "permissions": "read", "label": "json", "timestamp": ${Date.now()} }`;
    const res = await rawSigned<Created>('POST', '/cirrus/v1/apiKeys', alice, 'recvWindow=5000', {
      text,
      type: 'application/json',
    });
    expect([res.status, res.body.permissions]).toEqual([200, ['read']]);
  });

  it('refuses duplicates (-1101), a malformed key (-2014), a bad recvWindow (-1100), other bytes (-1022)', async () => {
    const { api, alice } = harness;
    const now = Date.now();
    const before = await keysOf(alice);

    const dup = await rawSigned<Err>('GET', '/api/v3/account', alice, `timestamp=${now}&timestamp=${now}`);
    expect([dup.status, dup.body]).toEqual([
      400,
      { code: -1101, msg: 'Duplicate values for a parameter detected.' },
    ]);

    const badKey = await api.signed<Err>('GET', '/api/v3/account', { ...alice, apiKey: 'short' });
    expect([badKey.status, badKey.body]).toEqual([401, { code: -2014, msg: 'API-key format invalid.' }]);

    const window = await rawSigned<Err>('GET', '/api/v3/account', alice, `recvWindow=5e3&timestamp=${now}`);
    expect([window.status, window.body.code]).toEqual([400, -1100]);

    // Signed over the %2C form, sent with a raw ',': not the bytes sent.
    const q = `permissions=read,trade&timestamp=${now}`;
    const sig = hmac(alice.secretKey, q.replace(',', '%2C'));
    const other = await api.raw<Err>('POST', `/cirrus/v1/apiKeys?${q}&signature=${sig}`, undefined, {
      'X-MBX-APIKEY': alice.apiKey,
    });
    expect([other.status, other.body.code]).toEqual([400, -1022]);
    expect(await keysOf(alice)).toEqual(before);
  });

  it('ignores a raw-query header sent by the client (only the edge sets it)', async () => {
    const { alice } = harness;
    const q = `timestamp=${Date.now()}`;
    const sig = hmac(alice.secretKey, q);
    const res = await harness.api.raw<{ balances: unknown[] }>(
      'GET',
      `/api/v3/account?${q}&signature=${sig}`,
      undefined,
      { 'X-MBX-APIKEY': alice.apiKey, 'X-Cirrus-Raw-Query': 'timestamp=1&signature=00' },
    );
    expect(res.status).toBe(200);
  });
});
