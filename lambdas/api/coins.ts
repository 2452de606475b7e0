// GET /sapi/v1/capital/config/getall, Binance's "all coins' information": per listed asset the caller's balances
// and, per network, whether deposits and withdrawals are open with the withdrawal fee, minimum, maximum and step
// and the confirmations a deposit waits for. Everything comes from the configuration the wallet, the listener
// and withdraw/apply use (docs/api.md#coins-signed-read): the chain coins of CHAIN_TOKENS
// (lambdas/wallet/chain-assets.ts), the withdrawal rules (lambdas/wallet/withdraw-config.ts), the listener's
// CHAIN_CONFIRMATIONS. Amounts are bigint ledger units printed as decimal strings, never floating point.
import { z } from 'zod';
import { ASSETS, type AssetSpec } from '@contracts/markets';
import { formatUnits } from '../shared/money';
import { chainCoins, type ChainCoin } from '../wallet/chain-assets';
import { withdrawRules, type WithdrawRules } from '../wallet/withdraw-config';

/** Binance's address pattern for EVM networks (its getall answers exactly this for ETH and BSC). */
export const EVM_ADDRESS_REGEX = '^(0x)[0-9A-Fa-f]{40}$';

const COIN_NAMES: Record<string, string> = { BTC: 'Bitcoin', ETH: 'Ethereum', USDT: 'TetherUS' };
/** Binance's display names of the networks Cirrus uses. */
const NETWORK_NAMES: Record<string, string> = { ETH: 'Ethereum (ERC20)', BTC: 'Bitcoin' };

export interface CoinsConfig {
  assets: AssetSpec[];
  chainCoins: ChainCoin[];
  /** Confirmations before the listener credits a deposit. */
  confirmations: number;
  rules: (coin: string, scale: number) => WithdrawRules | undefined;
}

const confirmationsSchema = z.coerce.number().int().min(1);

/**
 * The configuration as the API function sees it: CHAIN_TOKENS and the WITHDRAW_* variables (as withdraw/apply
 * reads them) and CHAIN_CONFIRMATIONS (as the listener reads it; required: without it the answer would be a guess).
 */
export function coinsConfig(env: Record<string, string | undefined> = process.env): CoinsConfig {
  const raw = env.CHAIN_CONFIRMATIONS;
  if (raw === undefined || raw === '')
    throw new Error('environment variable CHAIN_CONFIRMATIONS is not set (the listener’s confirmations)');
  return {
    assets: ASSETS,
    chainCoins: chainCoins(env.CHAIN_TOKENS),
    confirmations: confirmationsSchema.parse(raw),
    rules: (coin, scale) => withdrawRules(coin, scale, env),
  };
}

let configured: { key: string; config: CoinsConfig } | undefined;

/** The configuration of this container's environment, parsed once (again only if those variables change). */
export function configuredCoins(env: Record<string, string | undefined> = process.env): CoinsConfig {
  const key = JSON.stringify(
    [
      'CHAIN_TOKENS',
      'CHAIN_CONFIRMATIONS',
      'WITHDRAW_FEES',
      'WITHDRAW_DAILY_LIMITS',
      'WITHDRAW_GLOBAL_DAILY_LIMITS',
    ].map((k) => env[k]),
  );
  if (configured?.key !== key) configured = { key, config: coinsConfig(env) };
  return configured.config;
}

/** Binance prints network amounts without trailing zeros: "0.0005", "1", "0.00000001". */
export function plainUnits(units: bigint, scale: number): string {
  const s = formatUnits(units, scale);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

export interface UserHoldings {
  available: bigint;
  locked: bigint;
  /** amount + fee of the user's withdrawals not yet final (pending or broadcast), ledger units. */
  withdrawing: bigint;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);

function chainNetwork(asset: AssetSpec, c: ChainCoin, cfg: CoinsConfig, isDefault: boolean) {
  const scale = asset.ledgerScale;
  // withdraw/apply takes amounts with at most as many decimals as both the ledger and the chain coin hold.
  const precision = Math.min(scale, c.decimals);
  const step = 10n ** BigInt(scale - precision);
  const rules = cfg.rules(asset.symbol, scale);
  return {
    network: c.network,
    coin: asset.symbol,
    withdrawIntegerMultiple: plainUnits(step, scale),
    isDefault,
    depositEnable: true,
    withdrawEnable: rules !== undefined,
    depositDesc: '',
    withdrawDesc: rules ? '' : `Withdrawals of ${asset.symbol} are not supported.`,
    specialTips: '',
    name: NETWORK_NAMES[c.network] ?? c.network,
    resetAddressStatus: false,
    addressRegex: EVM_ADDRESS_REGEX,
    memoRegex: '',
    // The fee is charged on top of the amount; the amount must exceed it (withdraw/apply: -4022), so the least
    // accepted amount is the fee plus one step. The most is what the daily limits leave for one withdrawal: the
    // user's (amount + fee) and the exchange-wide (amount).
    withdrawFee: plainUnits(rules?.fee ?? 0n, scale),
    withdrawMin: plainUnits(rules ? rules.fee + step : 0n, scale),
    withdrawMax: plainUnits(rules ? min(rules.dailyLimit - rules.fee, rules.globalDailyLimit) : 0n, scale),
    // The smallest amount the listener credits (less than one ledger unit stays at the address).
    depositDust: plainUnits(step, scale),
    minConfirm: cfg.confirmations,
    unLockConfirm: cfg.confirmations,
    sameAddress: false,
    withdrawTag: false,
    busy: false,
    ...(c.token ? { contractAddress: c.token } : {}),
  };
}

/** A coin with no chain (BTC): as Binance shows a coin whose deposits and withdrawals are closed. */
function closedNetwork(asset: AssetSpec) {
  const zero = '0';
  const why = `${asset.symbol} is internal to Cirrus: it can be traded but not deposited or withdrawn.`;
  return {
    network: asset.symbol,
    coin: asset.symbol,
    withdrawIntegerMultiple: plainUnits(1n, asset.ledgerScale),
    isDefault: true,
    depositEnable: false,
    withdrawEnable: false,
    depositDesc: why,
    withdrawDesc: why,
    specialTips: '',
    name: NETWORK_NAMES[asset.symbol] ?? asset.symbol,
    resetAddressStatus: false,
    addressRegex: '',
    memoRegex: '',
    withdrawFee: zero,
    withdrawMin: zero,
    withdrawMax: zero,
    depositDust: zero,
    minConfirm: 0,
    unLockConfirm: 0,
    sameAddress: false,
    withdrawTag: false,
    busy: false,
  };
}

/** The getall answer for one user: every listed asset, in ASSETS order. */
export function coinList(cfg: CoinsConfig, holdings: (coin: string) => UserHoldings) {
  return cfg.assets.map((a) => {
    const h = holdings(a.symbol);
    const zero = formatUnits(0n, a.ledgerScale);
    const chains = cfg.chainCoins.filter((c) => c.coin === a.symbol);
    // The first network is the default, as the deposit-address endpoint picks it when none is asked for.
    const networkList = chains.length
      ? chains.map((c, i) => chainNetwork(a, c, cfg, i === 0))
      : [closedNetwork(a)];
    return {
      coin: a.symbol,
      depositAllEnable: networkList.some((n) => n.depositEnable),
      withdrawAllEnable: networkList.some((n) => n.withdrawEnable),
      name: COIN_NAMES[a.symbol] ?? a.symbol,
      free: formatUnits(h.available, a.ledgerScale),
      // The ledger's locked balance: open orders and the withdrawals in flight (shown again as `withdrawing`).
      locked: formatUnits(h.locked, a.ledgerScale),
      freeze: zero,
      withdrawing: formatUnits(h.withdrawing, a.ledgerScale),
      ipoing: zero,
      ipoable: zero,
      storage: zero,
      isLegalMoney: false,
      trading: true,
      networkList,
    };
  });
}
