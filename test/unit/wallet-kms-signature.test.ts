// The KMS → Ethereum signature conversion (lambdas/wallet/kms-signature.ts) against ethers' own signing of
// the same digest: DER parsing, low-s normalisation and the recovery id.
import { Transaction, Wallet, keccak256, randomBytes, toBeHex } from 'ethers';
import { kmsToEthSignature, parseDerSignature } from '@lambdas/wallet/kms-signature';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** DER ECDSA-Sig-Value of (r, s), minimal integers, as KMS returns it. */
function der(r: bigint, s: bigint): Buffer {
  const int = (v: bigint) => {
    let b = Buffer.from(toBeHex(v, 32).slice(2), 'hex');
    while (b.length > 1 && b[0] === 0 && !(b[1] & 0x80)) b = b.subarray(1);
    if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return Buffer.concat([Buffer.from([2, b.length]), b]);
  };
  const body = Buffer.concat([int(r), int(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

describe('kmsToEthSignature', () => {
  it('gives ethers’ signature (r, s, v) for 50 random keys and digests, both v values seen', () => {
    const vs = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const wallet = Wallet.createRandom();
      const digest = keccak256(randomBytes(64));
      const expected = wallet.signingKey.sign(digest);
      const got = kmsToEthSignature(der(BigInt(expected.r), BigInt(expected.s)), digest, wallet.address);
      expect({ r: got.r, s: got.s, v: got.v }).toEqual({ r: expected.r, s: expected.s, v: expected.v });
      vs.add(got.v);
    }
    expect([...vs].sort()).toEqual([27, 28]);
  });

  it('normalises a high s (KMS may return either form) to ethers’ low s and its v', () => {
    const wallet = Wallet.createRandom();
    const digest = keccak256(randomBytes(32));
    const expected = wallet.signingKey.sign(digest);
    const high = N - BigInt(expected.s);
    expect(high > N / 2n).toBe(true);
    const got = kmsToEthSignature(der(BigInt(expected.r), high), digest, wallet.address);
    expect({ r: got.r, s: got.s, v: got.v }).toEqual({ r: expected.r, s: expected.s, v: expected.v });
  });

  it('signs a transaction byte-for-byte as ethers’ Wallet does', async () => {
    const wallet = Wallet.createRandom();
    const fields = {
      type: 2,
      chainId: 31337n,
      nonce: 7,
      to: Wallet.createRandom().address,
      value: 123_456_789n,
      gasLimit: 21_000n,
      maxFeePerGas: 2_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
    };
    const tx = Transaction.from(fields);
    const e = wallet.signingKey.sign(tx.unsignedHash);
    tx.signature = kmsToEthSignature(der(BigInt(e.r), BigInt(e.s)), tx.unsignedHash, wallet.address);
    expect(tx.serialized).toBe(await wallet.signTransaction(fields));
    expect(tx.from).toBe(wallet.address);
  });

  it('refuses a signature of another key, and malformed DER', () => {
    const wallet = Wallet.createRandom();
    const digest = keccak256(randomBytes(32));
    const e = wallet.signingKey.sign(digest);
    const sig = der(BigInt(e.r), BigInt(e.s));
    expect(() => kmsToEthSignature(sig, digest, Wallet.createRandom().address)).toThrow(/does not recover/);
    expect(() => parseDerSignature(sig.subarray(0, sig.length - 1))).toThrow(/not a DER/);
    expect(() => parseDerSignature(Buffer.from([0x31, 0]))).toThrow(/not a DER/);
    expect(() => parseDerSignature(der(0n, 1n))).toThrow(/not a DER/);
    expect(parseDerSignature(sig)).toEqual({ r: BigInt(e.r), s: BigInt(e.s) });
  });
});
