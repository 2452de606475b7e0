// Deposit addresses from an extended PUBLIC key (BIP-32/44): whoever hands out addresses can derive every
// one of them but can sign for none. The xpub is the account node m/44'/60'/0'; a user's address is its
// external chain's child 0/<index> (m/44'/60'/0'/0/<index>), as wallets derive them from the seed.
import { HDNodeWallet, getAddress } from 'ethers';

/** BIP-44 path of the account node whose xpub Cirrus holds (the seed's owner exports it). */
export const DEPOSIT_ACCOUNT_PATH = "m/44'/60'/0'";

const MAX_NON_HARDENED = 2 ** 31 - 1;

export function assertPublicOnly(xpub: string): void {
  const node = HDNodeWallet.fromExtendedKey(xpub);
  // An xprv would hand the API the keys to every deposit: refuse it outright.
  if (node instanceof HDNodeWallet) throw new Error('the deposit key must be an extended public key');
}

/** The deposit address (EIP-55) at `index` under the account xpub. */
export function depositAddressAt(xpub: string, index: bigint): string {
  if (index < 0n || index > BigInt(MAX_NON_HARDENED))
    throw new Error(`derivation index out of range: ${index}`);
  const account = HDNodeWallet.fromExtendedKey(xpub);
  if (account instanceof HDNodeWallet) throw new Error('the deposit key must be an extended public key');
  return getAddress(account.deriveChild(0).deriveChild(Number(index)).address);
}
