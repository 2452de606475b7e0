// KMS ECDSA_SHA_256 signatures (ECC_SECG_P256K1) as Ethereum signatures. KMS returns DER (r, s) with any
// s and no recovery id; Ethereum needs s in the lower half of the curve order (EIP-2) and the v that
// recovers the signer. Pure code: the tested part of the hot wallet's signing.
import { Signature, recoverAddress, toBeHex } from 'ethers';

/** secp256k1's group order n. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** r and s of a DER ECDSA-Sig-Value: SEQUENCE { INTEGER r, INTEGER s }. */
export function parseDerSignature(der: Uint8Array): { r: bigint; s: bigint } {
  const b = Buffer.from(der);
  let i = 0;
  const expect = (tag: number) => {
    if (b[i++] !== tag) throw new Error('not a DER ECDSA signature');
  };
  const length = () => {
    let len = b[i++];
    if (len & 0x80) {
      const bytes = len & 0x7f;
      len = 0;
      for (let k = 0; k < bytes; k++) len = (len << 8) | b[i++];
    }
    return len;
  };
  const integer = () => {
    expect(0x02);
    const len = length();
    const v = b.subarray(i, i + len);
    i += len;
    if (v.length === 0 || v.length > 33) throw new Error('not a DER ECDSA signature');
    return BigInt(`0x${v.toString('hex')}`);
  };
  expect(0x30);
  const total = length();
  if (total !== b.length - i) throw new Error('not a DER ECDSA signature');
  const r = integer();
  const s = integer();
  if (i !== b.length || r <= 0n || r >= N || s <= 0n || s >= N) throw new Error('not a DER ECDSA signature');
  return { r, s };
}

/**
 * The Ethereum signature of `digest` from a KMS DER signature: s normalised to the lower half (n − s is the
 * same signature's other form) and v chosen as the one of 27/28 that recovers `signer`.
 */
export function kmsToEthSignature(der: Uint8Array, digest: string, signer: string): Signature {
  const { r, s: rawS } = parseDerSignature(der);
  const s = rawS > N / 2n ? N - rawS : rawS;
  for (const v of [27, 28]) {
    const sig = Signature.from({ r: toBeHex(r, 32), s: toBeHex(s, 32), v });
    if (recoverAddress(digest, sig).toLowerCase() === signer.toLowerCase()) return sig;
  }
  throw new Error('KMS signature does not recover the hot-wallet address');
}
