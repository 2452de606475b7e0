// Deposit addresses from the account xpub match the seed's own BIP-44 derivation (so the seed's owner can
// sweep them), an xprv is refused, and on-chain amounts become ledger units without floating point.
import { HDNodeWallet } from 'ethers';
import { chainCoins, toLedgerUnits } from '@lambdas/wallet/chain-assets';
import { assertPublicOnly, DEPOSIT_ACCOUNT_PATH, depositAddressAt } from '@lambdas/wallet/deposit-address';

const MNEMONIC = 'test test test test test test test test test test test junk';
const account = HDNodeWallet.fromPhrase(MNEMONIC, undefined, DEPOSIT_ACCOUNT_PATH);
const xpub = account.neuter().extendedKey;

describe('deposit addresses from the account xpub', () => {
  it("equal the seed's m/44'/60'/0'/0/i addresses (hardhat's well-known account #0 at index 0)", () => {
    expect(depositAddressAt(xpub, 0n)).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
    for (const i of [1n, 7n, 1000n, 2n ** 31n - 1n]) {
      const fromSeed = HDNodeWallet.fromPhrase(MNEMONIC, undefined, `m/44'/60'/0'/0/${i}`).address;
      expect(depositAddressAt(xpub, i)).toBe(fromSeed);
    }
  });

  it('are distinct per index', () => {
    const seen = new Set(Array.from({ length: 50 }, (_, i) => depositAddressAt(xpub, BigInt(i))));
    expect(seen.size).toBe(50);
  });

  it('refuse an extended private key and an index outside the non-hardened range', () => {
    expect(xpub.startsWith('xpub')).toBe(true);
    expect(() => assertPublicOnly(xpub)).not.toThrow();
    expect(() => assertPublicOnly(account.extendedKey)).toThrow('extended public key');
    expect(() => depositAddressAt(account.extendedKey, 0n)).toThrow('extended public key');
    expect(() => depositAddressAt(xpub, 2n ** 31n)).toThrow('out of range');
    expect(() => depositAddressAt(xpub, -1n)).toThrow('out of range');
  });
});

describe('on-chain amounts in ledger units (scale 8)', () => {
  it('ETH (18 decimals) rounds down below 10^-8; USDT (6 decimals) scales up exactly', () => {
    expect(toLedgerUnits(1_500_000_000_000_000_000n, 18, 8)).toBe(150_000_000n);
    expect(toLedgerUnits(9_999_999_999n, 18, 8)).toBe(0n);
    expect(toLedgerUnits(10_000_000_001n, 18, 8)).toBe(1n);
    expect(toLedgerUnits(250_123_456n, 6, 8)).toBe(25_012_345_600n);
    expect(toLedgerUnits(2n ** 200n, 18, 8)).toBe(2n ** 200n / 10n ** 10n);
  });

  it('the coins: ETH native, tokens of CHAIN_TOKENS with known decimals only', () => {
    expect(chainCoins(undefined)).toEqual([{ coin: 'ETH', network: 'ETH', decimals: 18 }]);
    const token = '0x5FbDB2315678afecb367f032d93F642f64180aa3';
    expect(chainCoins(JSON.stringify({ USDT: token }))[1]).toEqual({
      coin: 'USDT',
      network: 'ETH',
      token: token.toLowerCase(),
      decimals: 6,
    });
    expect(() => chainCoins(JSON.stringify({ DOGE: token }))).toThrow('unknown decimals for DOGE');
    expect(() => chainCoins(JSON.stringify({ USDT: '0x1234' }))).toThrow();
  });
});
