// The per-container key cache: a key revoked anywhere stops working within 5 s, unknown keys are remembered
// in a bounded LRU, malformed keys never reach the database, and KMS is not called on every revalidation.
import type { KMSClient } from '@aws-sdk/client-kms';
import type { Pool } from 'pg';
import { ApiKeyStore, KEY_CACHE_TTL_MS, type KeyCacheLimits } from '@lambdas/shared/auth/api-keys';
import { LruCache } from '@lambdas/shared/auth/lru';

const KEY = 'K'.repeat(64);
const SECRET = 'S'.repeat(64);

/** The api_keys table as the store queries it; `revokedElsewhere` is another container's revoke. */
function fakeDb() {
  const rows = new Map<
    string,
    { user_id: string; secret_ciphertext: string; permissions: string; revoked: boolean }
  >();
  rows.set(KEY, {
    user_id: '7',
    secret_ciphertext: Buffer.from(`enc:${SECRET}`).toString('base64'),
    permissions: 'read,trade',
    revoked: false,
  });
  const selects: string[] = [];
  const pool = {
    query: jest.fn(async (sql: string, params: unknown[]) => {
      if (sql.startsWith('SELECT user_id')) {
        const key = params[0] as string;
        selects.push(key);
        const row = rows.get(key);
        return { rows: row && !row.revoked ? [row] : [], rowCount: row && !row.revoked ? 1 : 0 };
      }
      if (sql.startsWith('UPDATE api_keys SET revoked_at')) {
        const row = rows.get(params[1] as string);
        if (!row || row.revoked || row.user_id !== String(params[0])) return { rows: [], rowCount: 0 };
        row.revoked = true;
        return { rows: [], rowCount: 1 };
      }
      throw new Error(`unexpected SQL ${sql}`);
    }),
  };
  const kms = {
    send: jest.fn(async (cmd: { input: { CiphertextBlob: Uint8Array } }) => ({
      Plaintext: Buffer.from(Buffer.from(cmd.input.CiphertextBlob).toString('utf8').replace(/^enc:/, '')),
    })),
  };
  return { rows, selects, pool, kms };
}

function store(limits: Partial<KeyCacheLimits> = {}) {
  const db = fakeDb();
  let now = 1_000_000;
  const keys = new ApiKeyStore(
    db.pool as unknown as Pool,
    db.kms as unknown as KMSClient,
    'data-key',
    () => now,
    limits,
  );
  return { ...db, keys, advance: (ms: number) => (now += ms) };
}

describe('ApiKeyStore cache', () => {
  it('trusts what it read for at most 5 s', () => {
    expect(KEY_CACHE_TTL_MS).toBeLessThanOrEqual(5_000);
  });

  it('resolves a key with its owner, secret and permissions, and answers repeats from memory', async () => {
    const s = store();
    await expect(s.keys.resolve(KEY)).resolves.toEqual({
      userId: 7,
      secret: SECRET,
      permissions: new Set(['read', 'trade']),
    });
    await s.keys.resolve(KEY);
    expect(s.selects).toHaveLength(1);
  });

  it('a key revoked by another container stops working here within 5 s', async () => {
    const s = store();
    expect(await s.keys.resolve(KEY)).toBeDefined();
    s.rows.get(KEY)!.revoked = true; // another container's DELETE /cirrus/v1/apiKeys
    s.advance(KEY_CACHE_TTL_MS - 1);
    expect(await s.keys.resolve(KEY)).toBeDefined(); // still inside the window
    s.advance(1);
    expect(await s.keys.resolve(KEY)).toBeUndefined();
  });

  it('a key revoked through this container stops working at once', async () => {
    const s = store();
    expect(await s.keys.resolve(KEY)).toBeDefined();
    expect(await s.keys.revoke(7, KEY)).toBe(true);
    expect(await s.keys.resolve(KEY)).toBeUndefined();
  });

  it('revalidates every 5 s against the database but decrypts the secret once', async () => {
    const s = store();
    for (let i = 0; i < 4; i++) {
      expect((await s.keys.resolve(KEY))?.secret).toBe(SECRET);
      s.advance(KEY_CACHE_TTL_MS);
    }
    expect(s.selects).toHaveLength(4);
    expect(s.kms.send).toHaveBeenCalledTimes(1);
  });

  it('concurrent lookups of one key share one query', async () => {
    const s = store();
    const all = await Promise.all([s.keys.resolve(KEY), s.keys.resolve(KEY), s.keys.resolve(KEY)]);
    expect(all.every((k) => k?.userId === 7)).toBe(true);
    expect(s.selects).toHaveLength(1);
  });

  it('never looks up a malformed key', async () => {
    const s = store();
    for (const k of ['', 'short', 'K'.repeat(63), 'K'.repeat(65), `${'K'.repeat(63)}!`, `${'K'.repeat(63)}é`])
      expect(await s.keys.resolve(k)).toBeUndefined();
    expect(s.pool.query).not.toHaveBeenCalled();
    expect(s.keys.cacheSizes()).toEqual({ known: 0, unknown: 0 });
  });

  it('remembers unknown keys for 5 s, in a bounded LRU', async () => {
    const s = store({ unknownCapacity: 3 });
    const unknown = (i: number) => `U${String(i).padStart(63, '0')}`;
    for (let i = 0; i < 100; i++) expect(await s.keys.resolve(unknown(i))).toBeUndefined();
    expect(s.keys.cacheSizes().unknown).toBe(3);
    expect(s.selects).toHaveLength(100);

    // The three most recent are answered from memory; an evicted one is queried again.
    await s.keys.resolve(unknown(99));
    await s.keys.resolve(unknown(97));
    expect(s.selects).toHaveLength(100);
    await s.keys.resolve(unknown(0));
    expect(s.selects).toHaveLength(101);
    expect(s.keys.cacheSizes().unknown).toBe(3);

    // After 5 s an unknown key is asked about again (it may have been created meanwhile).
    s.advance(KEY_CACHE_TTL_MS);
    await s.keys.resolve(unknown(0));
    expect(s.selects).toHaveLength(102);
  });

  it('a flood of unknown keys does not evict the known ones', async () => {
    const s = store({ unknownCapacity: 2, knownCapacity: 2 });
    await s.keys.resolve(KEY);
    for (let i = 0; i < 50; i++) await s.keys.resolve(`Z${String(i).padStart(63, '0')}`);
    await s.keys.resolve(KEY);
    expect(s.selects.filter((k) => k === KEY)).toHaveLength(1);
  });
});

describe('LruCache', () => {
  it('evicts the least recently used entry first and expires entries after the TTL', () => {
    let now = 0;
    const c = new LruCache<string, number>(2, 100, () => now);
    c.set('a', 1);
    c.set('b', 2);
    expect(c.lookup('a')).toEqual({ found: true, value: 1 }); // a is now the most recent
    c.set('c', 3); // evicts b
    expect(c.lookup('b')).toEqual({ found: false });
    expect(c.lookup('a')).toEqual({ found: true, value: 1 });
    expect(c.size).toBe(2);
    now = 100;
    expect(c.lookup('a')).toEqual({ found: false });
    expect(c.lookup('c')).toEqual({ found: false });
    expect(c.size).toBe(0);
  });

  it('refuses a capacity below one', () => {
    expect(() => new LruCache(0, 1)).toThrow();
  });
});
