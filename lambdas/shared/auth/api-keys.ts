// API keys: 64-character key and secret as Binance issues them; the secret is stored only as a KMS
// ciphertext (bound to its key by the encryption context) and shown once, at creation.
import { randomBytes } from 'node:crypto';
import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { Pool } from 'pg';

export type Permission = 'read' | 'trade' | 'withdraw';
export const PERMISSIONS: readonly Permission[] = ['read', 'trade', 'withdraw'];

export interface ResolvedKey {
  userId: number;
  secret: string;
  permissions: Set<Permission>;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const CACHE_TTL_MS = 60_000;

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

export class ApiKeyStore {
  private readonly cache = new Map<string, { key: ResolvedKey | undefined; until: number }>();

  constructor(
    private readonly pool: Pool,
    private readonly kms: KMSClient,
    private readonly kmsKeyId: string,
    private readonly clock: () => number = Date.now,
  ) {}

  async create(
    userId: number,
    permissions: Permission[],
    label = '',
  ): Promise<{ apiKey: string; secretKey: string }> {
    const apiKey = randomToken();
    const secretKey = randomToken();
    const encrypted = await this.kms.send(
      new EncryptCommand({
        KeyId: this.kmsKeyId,
        Plaintext: Buffer.from(secretKey),
        EncryptionContext: { purpose: 'cirrus-api-key', apiKey },
      }),
    );
    await this.pool.query(
      'INSERT INTO api_keys (user_id, api_key, secret_ciphertext, permissions, label) VALUES ($1, $2, $3, $4, $5)',
      [
        userId,
        apiKey,
        Buffer.from(encrypted.CiphertextBlob as Uint8Array).toString('base64'),
        [...new Set(permissions)].sort().join(','),
        label,
      ],
    );
    return { apiKey, secretKey };
  }

  async list(
    userId: number,
  ): Promise<Array<{ apiKey: string; permissions: Permission[]; label: string; createdAt: number }>> {
    const res = await this.pool.query<{
      api_key: string;
      permissions: string;
      label: string;
      created_at: Date;
    }>(
      'SELECT api_key, permissions, label, created_at FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id',
      [userId],
    );
    return res.rows.map((r) => ({
      apiKey: r.api_key,
      permissions: r.permissions.split(',') as Permission[],
      label: r.label,
      createdAt: new Date(r.created_at).getTime(),
    }));
  }

  /** Revokes one of the user's own keys; false if it is not theirs or already revoked. */
  async revoke(userId: number, apiKey: string): Promise<boolean> {
    const res = await this.pool.query(
      'UPDATE api_keys SET revoked_at = now() WHERE user_id = $1 AND api_key = $2 AND revoked_at IS NULL',
      [userId, apiKey],
    );
    this.cache.delete(apiKey);
    return res.rowCount === 1;
  }

  /** The key's owner, decrypted secret and permissions; cached briefly per container. */
  async resolve(apiKey: string): Promise<ResolvedKey | undefined> {
    const now = this.clock();
    const hit = this.cache.get(apiKey);
    if (hit && hit.until > now) return hit.key;
    const res = await this.pool.query<{ user_id: string; secret_ciphertext: string; permissions: string }>(
      'SELECT user_id, secret_ciphertext, permissions FROM api_keys WHERE api_key = $1 AND revoked_at IS NULL',
      [apiKey],
    );
    let key: ResolvedKey | undefined;
    const row = res.rows[0];
    if (row) {
      const plain = await this.kms.send(
        new DecryptCommand({
          CiphertextBlob: Buffer.from(row.secret_ciphertext, 'base64'),
          EncryptionContext: { purpose: 'cirrus-api-key', apiKey },
        }),
      );
      key = {
        userId: Number(row.user_id),
        secret: Buffer.from(plain.Plaintext as Uint8Array).toString('utf8'),
        permissions: new Set(row.permissions.split(',') as Permission[]),
      };
    }
    this.cache.set(apiKey, { key, until: now + CACHE_TTL_MS });
    return key;
  }
}
