import { generateKeyPairSync } from 'node:crypto';
import { SigningKey, computeAddress, Wallet } from 'ethers';
import { addressFromSpki } from '@lambdas/wallet/hot-wallet';

describe('hot-wallet address from the KMS public key (DER SubjectPublicKeyInfo)', () => {
  it('matches the address ethers derives from the same secp256k1 key', () => {
    for (let i = 0; i < 20; i++) {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
      const der = publicKey.export({ format: 'der', type: 'spki' });
      const d = Buffer.from(privateKey.export({ format: 'jwk' }).d as string, 'base64url');
      const expected = new Wallet(`0x${d.toString('hex').padStart(64, '0')}`).address;
      expect(addressFromSpki(der)).toBe(expected);
      expect(addressFromSpki(der)).toBe(
        computeAddress(new SigningKey(`0x${d.toString('hex').padStart(64, '0')}`).publicKey),
      );
    }
  });

  it('refuses a key on another curve', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    expect(() => addressFromSpki(publicKey.export({ format: 'der', type: 'spki' }))).toThrow(/secp256k1/);
  });
});
