// TOTP second factor (RFC 6238: HMAC-SHA-1, 30 s steps, 6 digits, ±1 step) with the `otpauth` library, and
// the secret's storage form: a KMS ciphertext bound to its user by the encryption context, as API-key secrets
// are (api-keys.ts). The secret is shown once, at enrolment, and never logged.
import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { Secret, TOTP } from 'otpauth';
import { TOTP_PURPOSE } from '@contracts/key-purposes';

export const TOTP_PERIOD_S = 30;
export const TOTP_DIGITS = 6;
/** Steps accepted either side of now (clock drift between the server and the authenticator). */
export const TOTP_WINDOW = 1;
export const TOTP_ISSUER = 'Cirrus';
/** 160 bits, the size RFC 4226 recommends for HMAC-SHA-1. */
const SECRET_BYTES = 20;
/** The encryption context's purpose: a TOTP ciphertext cannot be decrypted as anything else, nor for another user. */
export { TOTP_PURPOSE };

/** The RFC 6238 time step of `nowMs` (T = floor(unix seconds / 30)). */
export const totpStep = (nowMs: number): number => Math.floor(nowMs / 1000 / TOTP_PERIOD_S);

const totpOf = (secret: Uint8Array, digits = TOTP_DIGITS) =>
  new TOTP({
    issuer: TOTP_ISSUER,
    algorithm: 'SHA1',
    digits,
    period: TOTP_PERIOD_S,
    secret: new Secret({ buffer: Uint8Array.from(secret).buffer }),
  });

/** The code of `secret` at time `nowMs` (the authenticator's side; tests use it). */
export function totpCode(secret: Uint8Array, nowMs: number, digits = TOTP_DIGITS): string {
  return totpOf(secret, digits).generate({ timestamp: nowMs });
}

/** The time step whose code `code` is, within ±TOTP_WINDOW of now, or null when it matches none. */
export function matchingStep(secret: Uint8Array, code: string, nowMs: number): number | null {
  if (!new RegExp(`^\\d{${TOTP_DIGITS}}$`).test(code)) return null;
  const delta = totpOf(secret).validate({ token: code, timestamp: nowMs, window: TOTP_WINDOW });
  return delta === null ? null : totpStep(nowMs) + delta;
}

/** A new random secret (otpauth draws it from node:crypto). */
export const newTotpSecret = (): Uint8Array => new Uint8Array(new Secret({ size: SECRET_BYTES }).buffer);

export const base32Of = (secret: Uint8Array): string =>
  new Secret({ buffer: Uint8Array.from(secret).buffer }).base32;

/** The key URI authenticator apps read (Google's otpauth:// format; the label names the Cirrus user id). */
export const otpauthUri = (secret: Uint8Array, userId: number): string => {
  const t = totpOf(secret);
  t.label = `user-${userId}`;
  return t.toString();
};

/** Encrypts and decrypts TOTP secrets with the data key; the context binds a ciphertext to its user. */
export class TotpSecretBox {
  constructor(
    private readonly kms: Pick<KMSClient, 'send'>,
    private readonly kmsKeyId: string,
  ) {}

  private static context(userId: number) {
    return { purpose: TOTP_PURPOSE, userId: String(userId) };
  }

  async seal(userId: number, secret: Uint8Array): Promise<string> {
    const out = await this.kms.send(
      new EncryptCommand({
        KeyId: this.kmsKeyId,
        Plaintext: secret,
        EncryptionContext: TotpSecretBox.context(userId),
      }),
    );
    return Buffer.from(out.CiphertextBlob as Uint8Array).toString('base64');
  }

  async open(userId: number, ciphertext: string): Promise<Uint8Array> {
    const out = await this.kms.send(
      new DecryptCommand({
        CiphertextBlob: Buffer.from(ciphertext, 'base64'),
        EncryptionContext: TotpSecretBox.context(userId),
      }),
    );
    return new Uint8Array(out.Plaintext as Uint8Array);
  }
}
