// TOTP (lambdas/shared/auth/totp.ts) against RFC 6238 Appendix B (SHA-1, the 20-byte ASCII seed
// "12345678901234567890", 8 digits as the RFC prints them), the ±1 step window Cirrus accepts, the key URI
// authenticator apps read, and the sealed secret's KMS encryption context.
import {
  TOTP_PURPOSE,
  TotpSecretBox,
  base32Of,
  matchingStep,
  newTotpSecret,
  otpauthUri,
  totpCode,
  totpStep,
} from '@lambdas/shared/auth/totp';

const RFC_SEED = new TextEncoder().encode('12345678901234567890');

describe('RFC 6238 Appendix B, SHA-1', () => {
  it.each([
    [59, '0000000000000001', '94287082'],
    [1111111109, '00000000023523EC', '07081804'],
    [1111111111, '00000000023523ED', '14050471'],
    [1234567890, '000000000273EF07', '89005924'],
    [2000000000, '0000000003F940AA', '69279037'],
    [20000000000, '0000000027BC86AA', '65353130'],
  ])('T = %i s (step %s) → %s', (seconds, stepHex, code) => {
    expect(totpStep(seconds * 1000)).toBe(parseInt(stepHex, 16));
    expect(totpCode(RFC_SEED, seconds * 1000, 8)).toBe(code);
    // Cirrus's 6 digits are the same HOTP value modulo 10^6 (RFC 4226 §5.3).
    expect(totpCode(RFC_SEED, seconds * 1000)).toBe(code.slice(-6));
  });
});

describe('matchingStep', () => {
  const now = 1_111_111_111_000; // step 37037037, 1 s into it
  const step = totpStep(now);
  const at = (s: number) => totpCode(RFC_SEED, s * 30_000);

  it('accepts the codes of the current, previous and next step, each as its own step', () => {
    expect(matchingStep(RFC_SEED, at(step), now)).toBe(step);
    expect(matchingStep(RFC_SEED, at(step - 1), now)).toBe(step - 1);
    expect(matchingStep(RFC_SEED, at(step + 1), now)).toBe(step + 1);
  });

  it('refuses codes two steps away, wrong codes, and anything but six digits', () => {
    expect(matchingStep(RFC_SEED, at(step - 2), now)).toBeNull();
    expect(matchingStep(RFC_SEED, at(step + 2), now)).toBeNull();
    const right = at(step);
    const wrong = String((Number(right) + 1) % 1_000_000).padStart(6, '0');
    expect([at(step - 1), at(step + 1)]).not.toContain(wrong);
    expect(matchingStep(RFC_SEED, wrong, now)).toBeNull();
    expect(matchingStep(RFC_SEED, ` ${right}`, now)).toBeNull();
    expect(matchingStep(RFC_SEED, `${right}0`, now)).toBeNull();
    expect(matchingStep(RFC_SEED, totpCode(RFC_SEED, now, 8), now)).toBeNull();
  });

  it('is bound to the secret', () => {
    const other = new TextEncoder().encode('abcdefghijabcdefghij');
    expect(matchingStep(other, totpCode(other, now), now)).toBe(step);
    expect(matchingStep(other, at(step), now)).toBeNull();
    expect(matchingStep(RFC_SEED, totpCode(other, now), now)).toBeNull();
  });
});

describe('secrets and the key URI', () => {
  it('draws 160-bit random secrets', () => {
    const a = newTotpSecret();
    expect(a).toHaveLength(20);
    expect(Buffer.from(newTotpSecret()).equals(Buffer.from(a))).toBe(false);
  });

  it('prints the RFC seed in base32 and a URI with SHA1, 6 digits, 30 s and the issuer', () => {
    expect(base32Of(RFC_SEED)).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    const uri = new URL(otpauthUri(RFC_SEED, 42));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Cirrus:user-42');
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      issuer: 'Cirrus',
      secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
  });

  it('seals with the data key and an encryption context naming the purpose and the user', async () => {
    const calls: Array<{ input: Record<string, unknown> }> = [];
    const kms = {
      send: async (cmd: { input: { Plaintext?: Uint8Array; CiphertextBlob?: Uint8Array } }) => {
        calls.push(cmd as never);
        return cmd.input.Plaintext
          ? { CiphertextBlob: Buffer.from(cmd.input.Plaintext).reverse() }
          : { Plaintext: Buffer.from(cmd.input.CiphertextBlob!).reverse() };
      },
    };
    const box = new TotpSecretBox(kms as never, 'data-key');
    const sealed = await box.seal(7, RFC_SEED);
    expect(sealed).not.toContain(base32Of(RFC_SEED));
    expect(Buffer.from(await box.open(7, sealed)).toString()).toBe('12345678901234567890');
    const context = { purpose: TOTP_PURPOSE, userId: '7' };
    expect(calls[0].input).toMatchObject({ KeyId: 'data-key', EncryptionContext: context });
    expect(calls[1].input).toMatchObject({ EncryptionContext: context });
  });
});
