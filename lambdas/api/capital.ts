// Signed deposit endpoints (docs/wallets.md), Binance's shapes: GET /sapi/v1/capital/deposit/address (the
// caller's address, derived from the deposit xpub on first request) and GET /sapi/v1/capital/deposit/hisrec
// (the caller's deposits). Served by the account function (lambdas/api/account.ts routes them here).
import { getAddress, isAddress } from 'ethers';
import { z } from 'zod';
import { authenticate } from '../shared/auth/signed-request';
import { dbPool } from '../shared/db';
import { BinanceError, parseParams, type ApiRequest } from '../shared/http';
import { idParam, limitParam, offsetParam } from '../shared/http/params';
import { DepositRepository, type DepositRow } from '../shared/ledger/deposits';
import {
  WithdrawalRepository,
  type WithdrawalRow,
  type WithdrawalStatus,
} from '../shared/ledger/withdrawals';
import { assetScale, formatUnits, tryParseUnits } from '../shared/money';
import { chainCoins } from '../wallet/chain-assets';
import { withdrawRules } from '../wallet/withdraw-config';
import { depositAddressAt } from '../wallet/deposit-address';
import { depositXpub } from '../wallet/xpub-source';
import { apiContext } from './context';

let repo: DepositRepository | undefined;
const deposits = () => (repo ??= new DepositRepository(dbPool()));
let wrepo: WithdrawalRepository | undefined;
const withdrawals = () => (wrepo ??= new WithdrawalRepository(dbPool()));

const coinParam = z.string().regex(/^[A-Z0-9]{1,20}$/);
const msParam = idParam.optional();

/** The network a deposit of `coin` arrives on (the default when none is asked for), or a Binance error. */
function depositNetwork(coin: string, network: string | undefined): string {
  const networks = chainCoins(process.env.CHAIN_TOKENS).filter((c) => c.coin === coin);
  if (networks.length === 0) throw new BinanceError(400, -4018, `Deposits of ${coin} are not supported.`);
  const chosen = network ?? networks[0].network;
  if (!networks.some((c) => c.network === chosen))
    throw new BinanceError(400, -4019, `Network ${chosen} is not supported for ${coin}.`);
  return chosen;
}

/** GET /sapi/v1/capital/deposit/address?coin=ETH[&network=ETH] */
export async function depositAddress(req: ApiRequest) {
  const { userId } = await authenticate(req, 'read', apiContext().auth);
  const p = parseParams(
    z.object({ coin: coinParam, network: coinParam.optional(), amount: z.string().optional() }),
    req.params,
  );
  const network = depositNetwork(p.coin, p.network);
  const xpub = await depositXpub();
  // ETH and its tokens share one address per user: an EVM address receives both.
  const a = await deposits().addressFor(userId, network, (index) =>
    depositAddressAt(xpub, index).toLowerCase(),
  );
  return { address: getAddress(a.address), coin: p.coin, tag: '', url: '' };
}

/** Binance's deposit status codes: 0 pending, 1 success (credited). */
const STATUS_CODE = { pending: 0, credited: 1 } as const;

function depositJson(d: DepositRow) {
  return {
    id: String(d.id),
    amount: formatUnits(d.amount, assetScale(d.coin)),
    coin: d.coin,
    network: d.network,
    status: STATUS_CODE[d.status],
    address: getAddress(d.address),
    addressTag: '',
    txId: d.txHash,
    insertTime: d.insertMs,
    completeTime: d.creditedMs ?? undefined,
    transferType: 0,
    confirmTimes: `${d.confirmations}/${d.requiredConfirmations}`,
    unlockConfirm: d.requiredConfirmations,
    walletType: 0,
  };
}

/** GET /sapi/v1/capital/deposit/hisrec: the caller's deposits, newest first. */
export async function depositHistory(req: ApiRequest) {
  const { userId } = await authenticate(req, 'read', apiContext().auth);
  const p = parseParams(
    z.object({
      coin: coinParam.optional(),
      status: z.enum(['0', '1']).optional(),
      startTime: msParam,
      endTime: msParam,
      offset: offsetParam,
      limit: limitParam(1000, 1000),
      txId: z
        .string()
        .regex(/^0x[0-9a-fA-F]{64}$/)
        .optional(),
      includeSource: z.enum(['true', 'false']).optional(),
    }),
    req.params,
  );
  if (p.startTime !== undefined && p.endTime !== undefined && p.startTime > p.endTime)
    throw new BinanceError(400, -1128, 'startTime must be before endTime.');
  const rows = await deposits().list(userId, {
    coin: p.coin,
    status: p.status === undefined ? undefined : p.status === '0' ? 'pending' : 'credited',
    startTime: p.startTime,
    endTime: p.endTime,
    txId: p.txId,
    offset: p.offset,
    limit: p.limit,
  });
  return rows.map(depositJson);
}

/** POST /sapi/v1/capital/withdraw/apply: locks amount + network fee and records the withdrawal; the wallet sends it. */
export async function withdrawApply(req: ApiRequest) {
  const { userId } = await authenticate(req, 'withdraw', apiContext().auth);
  const p = parseParams(
    z.object({
      coin: coinParam,
      network: coinParam.optional(),
      address: z.string().max(100),
      amount: z.string().max(40),
      withdrawOrderId: z.string().max(64).optional(),
      addressTag: z.string().max(0).optional(),
      name: z.string().max(100).optional(),
      walletType: z.enum(['0']).optional(),
      transactionFeeFlag: z.enum(['false']).optional(),
    }),
    req.params,
  );
  const network = depositNetwork(p.coin, p.network);
  const coin = chainCoins(process.env.CHAIN_TOKENS).find((c) => c.coin === p.coin && c.network === network)!;
  // isAddress refuses a mixed-case address whose EIP-55 checksum is wrong (a mistyped address).
  if (!isAddress(p.address) || /^0x0{40}$/i.test(p.address))
    throw new BinanceError(400, -4007, `Invalid withdrawal address: ${p.address}.`);
  const scale = assetScale(p.coin);
  const rules = withdrawRules(p.coin, scale);
  if (!rules) throw new BinanceError(400, -4018, `Withdrawals of ${p.coin} are not supported.`);
  // The amount may carry no more decimals than both the ledger and the chain coin hold, so that ledger units
  // and chain units are both exact multiples of it (USDT: 6 on chain, 8 in the ledger).
  const precision = Math.min(scale, coin.decimals);
  const units = tryParseUnits(p.amount, precision);
  if (units === null)
    throw new BinanceError(
      400,
      -1100,
      `Illegal characters found in parameter 'amount'; at most ${precision} decimals for ${p.coin}.`,
    );
  const amount = units * 10n ** BigInt(scale - precision);
  const chainAmount = units * 10n ** BigInt(coin.decimals - precision);
  if (amount <= rules.fee)
    throw new BinanceError(
      400,
      -4022,
      `The withdrawal amount must be greater than the network fee of ${formatUnits(rules.fee, scale)} ${p.coin}.`,
    );
  const r = await withdrawals().apply({
    userId,
    coin: p.coin,
    network,
    address: getAddress(p.address),
    amount,
    fee: rules.fee,
    chainAmount,
    dailyLimit: rules.dailyLimit,
    nowMs: Date.now(),
  });
  if ('refused' in r) {
    if (r.refused === 'insufficient') throw new BinanceError(400, -4026, 'User has insufficient balance.');
    throw new BinanceError(
      400,
      -4023,
      `The withdrawal exceeds the daily limit of ${formatUnits(rules.dailyLimit, scale)} ${p.coin} (fees included).`,
    );
  }
  return { id: String(r.id) };
}

/** Binance's withdrawal status codes: 4 processing, 5 failure, 6 completed. */
const WITHDRAW_STATUS: Record<WithdrawalStatus, number> = {
  pending: 4,
  broadcast: 4,
  confirmed: 6,
  failed: 5,
};
const statusesOf = (code: number) =>
  (Object.keys(WITHDRAW_STATUS) as WithdrawalStatus[]).filter((s) => WITHDRAW_STATUS[s] === code);

/** Binance prints applyTime as "YYYY-MM-DD HH:mm:ss" (UTC). */
const utc = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

function withdrawalJson(w: WithdrawalRow) {
  const scale = assetScale(w.coin);
  return {
    id: String(w.id),
    amount: formatUnits(w.amount, scale),
    transactionFee: formatUnits(w.fee, scale),
    coin: w.coin,
    status: WITHDRAW_STATUS[w.status],
    address: w.address,
    txId: w.txHash ?? '',
    applyTime: utc(w.applyMs),
    network: w.network,
    transferType: 0,
    info: '',
    confirmNo: w.status === 'confirmed' ? 1 : 0,
    walletType: 0,
    txKey: '',
    completeTime: w.completeMs === null ? undefined : utc(w.completeMs),
  };
}

/** GET /sapi/v1/capital/withdraw/history: the caller's withdrawals, newest first. */
export async function withdrawHistory(req: ApiRequest) {
  const { userId } = await authenticate(req, 'read', apiContext().auth);
  const p = parseParams(
    z.object({
      coin: coinParam.optional(),
      status: z.enum(['0', '1', '2', '3', '4', '5', '6']).transform(Number).optional(),
      withdrawOrderId: z.string().max(64).optional(),
      startTime: msParam,
      endTime: msParam,
      offset: offsetParam,
      limit: limitParam(1000, 1000),
      idList: z.string().max(2000).optional(),
    }),
    req.params,
  );
  if (p.startTime !== undefined && p.endTime !== undefined && p.startTime > p.endTime)
    throw new BinanceError(400, -1128, 'startTime must be before endTime.');
  const rows = await withdrawals().list(userId, {
    coin: p.coin,
    statuses: p.status === undefined ? undefined : statusesOf(p.status),
    startTime: p.startTime,
    endTime: p.endTime,
    offset: p.offset,
    limit: p.limit,
  });
  const ids = p.idList ? new Set(p.idList.split(',')) : undefined;
  return rows.map(withdrawalJson).filter((w) => !ids || ids.has(w.id));
}
