// The hot wallet's identity: its Ethereum address is derived from the KMS key's public key (the private
// key never leaves KMS). Pure code: the handler fetches the DER public key, this turns it into an address.
import { createPublicKey } from 'node:crypto';
import { computeAddress } from 'ethers';

/** Ethereum address (EIP-55 checksummed) of a secp256k1 public key in DER SubjectPublicKeyInfo form. */
export function addressFromSpki(der: Uint8Array): string {
  const key = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'secp256k1') {
    throw new Error('not a secp256k1 public key');
  }
  const jwk = key.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x as string, 'base64url');
  const y = Buffer.from(jwk.y as string, 'base64url');
  // Uncompressed point: 0x04 || X || Y, each coordinate 32 bytes.
  return computeAddress(`0x04${x.toString('hex').padStart(64, '0')}${y.toString('hex').padStart(64, '0')}`);
}
