// The hot-wallet signer: secp256k1 signatures made by KMS (the private key never leaves it), turned into
// Ethereum signatures by kms-signature.ts. Used by the wallet function only (its role is the key policy's
// only signer, lib/stacks/keys-stack.ts).
import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { getBytes, type Signature } from 'ethers';
import { addressFromSpki } from './hot-wallet';
import { kmsToEthSignature } from './kms-signature';
import type { DigestSigner } from './withdrawal-sender';

export class KmsDigestSigner implements DigestSigner {
  private addr?: Promise<string>;

  constructor(
    private readonly kms: KMSClient,
    private readonly keyId: string,
  ) {}

  address(): Promise<string> {
    // The key never changes: its address is fetched once (a failed fetch is retried next call).
    this.addr ??= this.kms.send(new GetPublicKeyCommand({ KeyId: this.keyId })).then(
      (out) => {
        if (out.KeySpec !== 'ECC_SECG_P256K1' || !out.PublicKey)
          throw new Error(`hot-wallet key has spec ${out.KeySpec ?? 'unknown'}, expected ECC_SECG_P256K1`);
        return addressFromSpki(out.PublicKey);
      },
      (err: unknown) => {
        this.addr = undefined;
        throw err;
      },
    );
    return this.addr;
  }

  async sign(digest: string): Promise<Signature> {
    const out = await this.kms.send(
      new SignCommand({
        KeyId: this.keyId,
        Message: getBytes(digest),
        MessageType: 'DIGEST',
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    if (!out.Signature) throw new Error('KMS returned no signature');
    return kmsToEthSignature(out.Signature, digest, await this.address());
  }
}
