// API keys: 64-character key and secret as Binance issues them; the secret is stored only as a KMS
// ciphertext (bound to its key by the encryption context) and shown once, at creation.
import { randomBytes } from 'node:crypto';
import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { Pool } from 'pg';
import { LruCache } from './lru';
import { API_KEY_PURPOSE } from '@contracts/key-purposes';

export type Permission = 'read' | 'trade' | 'withdraw';
export const PERMISSIONS: readonly Permission[] = ['read', 'trade', 'withdraw'];

export interface ResolvedKey {
  userId: number;
  secret: string;
  permissions: Set<Permission>;
  /** The client addresses the key may be used from; undefined: any. */
  ipAllowlist?: readonly string[];
}

/** At most this many addresses per key (Binance allows 30). */
export const MAX_KEY_IPS = 30;

/** What Binance issues and accepts: 64 letters and digits. Anything else is refused before any lookup. */
export const API_KEY_FORMAT = /^[A-Za-z0-9]{64}$/;

/**
 * How long a container trusts what it read about a key (found or not found). A key revoked in another
 * container stops working here within this time; the revoking container forgets it at once.
 */
export const KEY_CACHE_TTL_MS = 5_000;

export interface KeyCacheLimits {
  /** Keys found (owner, permissions, secret). */
  knownCapacity: number;
  /** Well-formed keys that do not exist or are revoked: bounded, so a flood of random keys cannot grow memory. */
  unknownCapacity: number;
  /** Decrypted secrets by ciphertext, so revalidating a key every few seconds does not call KMS each time. */
  secretCapacity: number;
  secretTtlMs: number;
}

const DEFAULT_LIMITS: KeyCacheLimits = {
  knownCapacity: 10_000,
  unknownCapacity: 10_000,
  secretCapacity: 10_000,
  secretTtlMs: 15 * 60_000,
};

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomToken(length = 64): string {
  const bytes = randomBytes(length);
  let s = '';
  // 62 symbols: reject bytes ≥ 248 would be exact; the tiny modulo bias of 256 % 62 is irrelevant for a random id,
  // but we avoid it anyway by drawing again.
  for (let i = 0; s.length < length; i++) {
    const b = i < bytes.length ? bytes[i] : randomBytes(1)[0];
    if (b < 248) s += ALPHABET[b % 62];
  }
  return s;
}

/**
 * Whether an API key exists and is not revoked. Reads only `api_key` and `revoked_at` (the WebSocket fan-out's
 * column grant, migration 20): it ends the user data subscriptions a revoked key signed.
 */
export async function apiKeyActive(pool: Pick<Pool, 'query'>, apiKey: string): Promise<boolean> {
  const res = await pool.query('SELECT 1 FROM api_keys WHERE api_key = $1 AND revoked_at IS NULL', [apiKey]);
  return res.rowCount === 1;
}

export class ApiKeyStore {
  private readonly known: LruCache<string, ResolvedKey>;
  private readonly unknown: LruCache<string, true>;
  private readonly secrets: LruCache<string, string>;
  private readonly pending = new Map<string, Promise<ResolvedKey | undefined>>();

  constructor(
    private readonly pool: Pick<Pool, 'query'>,
    private readonly kms: Pick<KMSClient, 'send'>,
    private readonly kmsKeyId: string,
    clock: () => number = Date.now,
    limits: Partial<KeyCacheLimits> = {},
  ) {
    const l = { ...DEFAULT_LIMITS, ...limits };
    this.known = new LruCache(l.knownCapacity, KEY_CACHE_TTL_MS, clock);
    this.unknown = new LruCache(l.unknownCapacity, KEY_CACHE_TTL_MS, clock);
    this.secrets = new LruCache(l.secretCapacity, l.secretTtlMs, clock);
  }

  /** How many keys this container currently remembers as found and as unknown (for tests and metrics). */
  cacheSizes(): { known: number; unknown: number } {
    return { known: this.known.size, unknown: this.unknown.size };
  }

  async create(
    userId: number,
    permissions: Permission[],
    label = '',
    ipAllowlist?: readonly string[],
  ): Promise<{ apiKey: string; secretKey: string }> {
    if (permissions.includes('withdraw') && !ipAllowlist?.length)
      throw new Error('a key with the withdraw permission needs an IP allowlist');
    const apiKey = randomToken();
    const secretKey = randomToken();
    const encrypted = await this.kms.send(
      new EncryptCommand({
        KeyId: this.kmsKeyId,
        Plaintext: Buffer.from(secretKey),
        EncryptionContext: { purpose: API_KEY_PURPOSE, apiKey },
      }),
    );
    await this.pool.query(
      'INSERT INTO api_keys (user_id, api_key, secret_ciphertext, permissions, label, ip_allowlist) VALUES ($1, $2, $3, $4, $5, $6)',
      [
        userId,
        apiKey,
        Buffer.from(encrypted.CiphertextBlob as Uint8Array).toString('base64'),
        [...new Set(permissions)].sort().join(','),
        label,
        ipAllowlist?.length ? [...new Set(ipAllowlist)].join(',') : null,
      ],
    );
    this.unknown.delete(apiKey);
    return { apiKey, secretKey };
  }

  async list(userId: number): Promise<
    Array<{
      apiKey: string;
      permissions: Permission[];
      label: string;
      createdAt: number;
      ipRestrict: boolean;
      ipAllowlist: string[];
    }>
  > {
    const res = await this.pool.query<{
      api_key: string;
      permissions: string;
      label: string;
      created_at: Date;
      ip_allowlist: string | null;
    }>(
      'SELECT api_key, permissions, label, created_at, ip_allowlist FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id',
      [userId],
    );
    return res.rows.map((r) => ({
      apiKey: r.api_key,
      permissions: r.permissions.split(',') as Permission[],
      label: r.label,
      createdAt: new Date(r.created_at).getTime(),
      ipRestrict: r.ip_allowlist !== null,
      ipAllowlist: r.ip_allowlist?.split(',') ?? [],
    }));
  }

  /** Revokes one of the user's own keys; false if it is not theirs or already revoked. */
  async revoke(userId: number, apiKey: string): Promise<boolean> {
    const res = await this.pool.query(
      'UPDATE api_keys SET revoked_at = now() WHERE user_id = $1 AND api_key = $2 AND revoked_at IS NULL',
      [userId, apiKey],
    );
    this.known.delete(apiKey);
    return res.rowCount === 1;
  }

  /**
   * The key's owner, decrypted secret and permissions, or undefined for a malformed, unknown or revoked key.
   * What is read is trusted for KEY_CACHE_TTL_MS at most; concurrent misses for one key share one query.
   */
  async resolve(apiKey: string): Promise<ResolvedKey | undefined> {
    if (!API_KEY_FORMAT.test(apiKey)) return undefined;
    const known = this.known.lookup(apiKey);
    if (known.found) return known.value;
    if (this.unknown.lookup(apiKey).found) return undefined;
    const inFlight = this.pending.get(apiKey);
    if (inFlight) return inFlight;
    const load = this.load(apiKey).finally(() => this.pending.delete(apiKey));
    this.pending.set(apiKey, load);
    return load;
  }

  private async load(apiKey: string): Promise<ResolvedKey | undefined> {
    const res = await this.pool.query<{
      user_id: string;
      secret_ciphertext: string;
      permissions: string;
      ip_allowlist: string | null;
    }>(
      'SELECT user_id, secret_ciphertext, permissions, ip_allowlist FROM api_keys WHERE api_key = $1 AND revoked_at IS NULL',
      [apiKey],
    );
    const row = res.rows[0];
    if (!row) {
      this.known.delete(apiKey);
      this.unknown.set(apiKey, true);
      return undefined;
    }
    const key: ResolvedKey = {
      userId: Number(row.user_id),
      secret: await this.decrypt(apiKey, row.secret_ciphertext),
      permissions: new Set(row.permissions.split(',').filter(Boolean) as Permission[]),
      ...(row.ip_allowlist ? { ipAllowlist: row.ip_allowlist.split(',') } : {}),
    };
    this.unknown.delete(apiKey);
    this.known.set(apiKey, key);
    return key;
  }

  private async decrypt(apiKey: string, ciphertext: string): Promise<string> {
    const cacheKey = `${apiKey}:${ciphertext}`;
    const hit = this.secrets.lookup(cacheKey);
    if (hit.found) return hit.value;
    const plain = await this.kms.send(
      new DecryptCommand({
        CiphertextBlob: Buffer.from(ciphertext, 'base64'),
        EncryptionContext: { purpose: API_KEY_PURPOSE, apiKey },
      }),
    );
    const secret = Buffer.from(plain.Plaintext as Uint8Array).toString('utf8');
    this.secrets.set(cacheKey, secret);
    return secret;
  }
}
