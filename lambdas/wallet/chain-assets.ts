// The coins Cirrus takes deposits of, per network (Binance's network codes), and how an on-chain amount
// becomes ledger minor units. BTC stays internal: no Bitcoin adapter exists (docs/wallets.md).
import { z } from 'zod';

/** Binance's code for Ethereum mainnet; used for every EVM chain Cirrus is pointed at (one per deployment). */
export const ETH_NETWORK = 'ETH';

export interface ChainCoin {
  coin: string;
  network: string;
  /** ERC-20 contract (lower-case), or undefined for the chain's native coin. */
  token?: string;
  decimals: number;
}

/** Decimals of the ERC-20s Cirrus knows (USDT has 6 on Ethereum mainnet, and so has the local test token). */
const TOKEN_DECIMALS: Record<string, number> = { USDT: 6 };

const tokensSchema = z
  .string()
  .default('{}')
  .transform((s) => JSON.parse(s) as unknown)
  .pipe(z.record(z.string(), z.string().regex(/^0x[0-9a-fA-F]{40}$/)));

/** ETH plus the ERC-20s of CHAIN_TOKENS ({"USDT":"0x…"}) that Cirrus knows the decimals of. */
let fromEnv: { source: string | undefined; coins: ChainCoin[] } | undefined;

/** The chain coins of CHAIN_TOKENS, parsed once (again only if the variable changes: `npm start` sets it late). */
export function configuredChainCoins(): ChainCoin[] {
  const source = process.env.CHAIN_TOKENS;
  if (!fromEnv || fromEnv.source !== source) fromEnv = { source, coins: chainCoins(source) };
  return fromEnv.coins;
}

export function chainCoins(chainTokensJson: string | undefined): ChainCoin[] {
  const tokens = tokensSchema.parse(chainTokensJson);
  const coins: ChainCoin[] = [{ coin: 'ETH', network: ETH_NETWORK, decimals: 18 }];
  for (const [coin, address] of Object.entries(tokens)) {
    const decimals = TOKEN_DECIMALS[coin];
    if (decimals === undefined) throw new Error(`CHAIN_TOKENS: unknown decimals for ${coin}`);
    coins.push({ coin, network: ETH_NETWORK, token: address.toLowerCase(), decimals });
  }
  return coins;
}

/**
 * On-chain units → ledger minor units, rounded down: a remainder finer than the ledger's scale (wei below
 * 10^-8 ETH) is not credited and stays in the deposit address.
 */
export function toLedgerUnits(chainAmount: bigint, decimals: number, ledgerScale: number): bigint {
  if (ledgerScale >= decimals) return chainAmount * 10n ** BigInt(ledgerScale - decimals);
  return chainAmount / 10n ** BigInt(decimals - ledgerScale);
}
