// Signed deposit endpoints (docs/wallets.md), Binance's shapes: GET /sapi/v1/capital/deposit/address (the
// caller's address, derived from the deposit xpub on first request) and GET /sapi/v1/capital/deposit/hisrec
// (the caller's deposits); withdrawals and their protections (docs/wallets.md#withdrawals): the TOTP second
// factor (/cirrus/v1/totp…), the address allowlist (/cirrus/v1/withdrawAddresses), the limits. Served by the
// account function (lambdas/api/account.ts routes them here).
import { getAddress, isAddress } from 'ethers';
import { z } from 'zod';
import { base32Of, newTotpSecret, otpauthUri } from '../shared/auth/totp';
import { authenticate } from '../shared/auth/signed-request';
import { dbPool } from '../shared/db';
import { BinanceError, mandatoryParam, parseParams, type ApiRequest } from '../shared/http';
import { assetParam, idParam, limitParam, offsetParam } from '../shared/http/params';
import { DepositRepository } from '../shared/ledger/deposits';
import {
  MAX_WITHDRAW_ADDRESSES,
  WithdrawAddressRepository,
  type WithdrawAddressRow,
} from '../shared/ledger/withdraw-addresses';
import { WithdrawalRepository } from '../shared/ledger/withdrawals';
import { assetScale, formatUnits, tryParseUnits } from '../shared/money';
import { configuredChainCoins } from '../wallet/chain-assets';
import { addressHoldMs, withdrawRules } from '../wallet/withdraw-config';
import { depositAddressAt } from '../wallet/deposit-address';
import { depositXpub } from '../wallet/xpub-source';
import { depositJson, statusesOf, withdrawalJson } from './capital-format';
import { secondFactor, secretBox, totpCodeParam, totps, usedCode, verifyCode } from './second-factor';
import { apiContext } from './context';

let repo: DepositRepository | undefined;
const deposits = () => (repo ??= new DepositRepository(dbPool()));
let wrepo: WithdrawalRepository | undefined;
const withdrawals = () => (wrepo ??= new WithdrawalRepository(dbPool()));
let arepo: WithdrawAddressRepository | undefined;
const addresses = () => (arepo ??= new WithdrawAddressRepository(dbPool()));

const coinParam = assetParam;
/** Where funds go: the parameters withdraw/apply and the allowlist share. */
const destinationParams = {
  coin: coinParam,
  network: coinParam.optional(),
  address: z.string().max(100),
};
const msParam = idParam.optional();

/** The network a deposit of `coin` arrives on (the default when none is asked for), or a Binance error. */
function depositNetwork(coin: string, network: string | undefined): string {
  const networks = configuredChainCoins().filter((c) => c.coin === coin);
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

// ---- TOTP second factor: ./second-factor.ts ----------------------------------------------------------

const processStatus = (msg: string) => new BinanceError(400, -4000, `Invalid process status: ${msg}`);

/** GET /cirrus/v1/totp: whether the caller's 2FA is on (and whether an enrolment awaits its first code). */
export async function totpStatus(req: ApiRequest) {
  const { userId } = await authenticate(req, 'read', apiContext().auth);
  const row = await totps().get(userId);
  return { enabled: row?.enabled ?? false, pending: !!row && !row.enabled && row.ciphertext !== null };
}

/** POST /cirrus/v1/totp/enroll: a new secret, shown this once; 2FA is on only after /confirm. */
export async function totpEnroll(req: ApiRequest) {
  const { userId } = await authenticate(req, 'trade', apiContext().auth);
  const secret = newTotpSecret();
  const sealed = await secretBox().seal(userId, secret);
  if (!(await totps().enrol(userId, sealed, Date.now())))
    throw processStatus('2FA is already enabled; disable it first.');
  return { secret: base32Of(secret), uri: otpauthUri(secret, userId) };
}

/** POST /cirrus/v1/totp/confirm?totpCode=…: the first code of the enrolled secret turns 2FA on. */
export async function totpConfirm(req: ApiRequest) {
  const { userId } = await authenticate(req, 'trade', apiContext().auth);
  const p = parseParams(z.object({ totpCode: totpCodeParam }), req.params);
  const nowMs = Date.now();
  const row = await totps().get(userId);
  if (row?.enabled) throw processStatus('2FA is already enabled.');
  if (!row?.ciphertext) throw processStatus('no 2FA enrolment; POST /cirrus/v1/totp/enroll first.');
  const proof = await verifyCode(userId, row, p.totpCode, nowMs);
  if (!(await totps().confirm(userId, proof, nowMs))) throw usedCode();
  return { enabled: true };
}

/** POST /cirrus/v1/totp/disable?totpCode=…: a valid code turns 2FA off and forgets the secret. */
export async function totpDisable(req: ApiRequest) {
  const { userId } = await authenticate(req, 'trade', apiContext().auth);
  const p = parseParams(z.object({ totpCode: totpCodeParam }), req.params);
  const nowMs = Date.now();
  const row = await totps().get(userId);
  if (!row?.enabled) throw processStatus('2FA is not enabled.');
  const proof = await verifyCode(userId, row, p.totpCode, nowMs);
  if (!(await totps().disable(userId, proof))) throw usedCode();
  return { enabled: false };
}

// ---- Address allowlist -----------------------------------------------------------------------------------

/** A withdrawal address: a valid EVM address (a mixed-case one with a correct EIP-55 checksum), not zero. */
function withdrawAddress(address: string): string {
  if (!isAddress(address) || /^0x0{40}$/i.test(address))
    throw new BinanceError(400, -4007, `Invalid withdrawal address: ${address}.`);
  return getAddress(address);
}

function allowlistJson(a: WithdrawAddressRow) {
  return {
    id: String(a.id),
    coin: a.coin,
    network: a.network,
    address: getAddress(a.address),
    label: a.label,
    addTime: a.addedMs,
    usableTime: a.usableMs,
  };
}

/** GET /cirrus/v1/withdrawAddresses[?coin=…]: the caller's allowlisted addresses, oldest first. */
export async function listWithdrawAddresses(req: ApiRequest) {
  const { userId } = await authenticate(req, 'read', apiContext().auth);
  const p = parseParams(z.object({ coin: coinParam.optional() }), req.params);
  return (await addresses().list(userId, p.coin)).map(allowlistJson);
}

/** POST /cirrus/v1/withdrawAddresses: coin, network, address, label, totpCode (when 2FA is on). */
export async function addWithdrawAddress(req: ApiRequest) {
  const { userId } = await authenticate(req, 'withdraw', apiContext().auth);
  const p = parseParams(
    z.object({
      ...destinationParams,
      label: z
        .string()
        .regex(/^[\x20-\x7e]{0,64}$/)
        .default(''),
      totpCode: totpCodeParam,
    }),
    req.params,
  );
  const network = depositNetwork(p.coin, p.network);
  if (!withdrawRules(p.coin, assetScale(p.coin)))
    throw new BinanceError(400, -4018, `Withdrawals of ${p.coin} are not supported.`);
  const address = withdrawAddress(p.address);
  const nowMs = Date.now();
  const totp = await secondFactor(userId, p.totpCode, nowMs);
  const r = await addresses().add({
    userId,
    coin: p.coin,
    network,
    address,
    label: p.label,
    nowMs,
    holdMs: addressHoldMs(),
    totp,
  });
  if ('refused' in r) {
    if (r.refused === 'totp') throw totp ? usedCode() : mandatoryParam('totpCode');
    if (r.refused === 'duplicate')
      throw new BinanceError(
        400,
        -1130,
        `Data sent for parameter 'address' is not valid: ${address} is already on the allowlist for ${p.coin} on ${network}.`,
      );
    throw new BinanceError(
      400,
      -1130,
      `Data sent for parameter 'address' is not valid: at most ${MAX_WITHDRAW_ADDRESSES} allowlisted addresses.`,
    );
  }
  return allowlistJson(r);
}

/** DELETE /cirrus/v1/withdrawAddresses?id=…: removes one of the caller's allowlisted addresses. */
export async function removeWithdrawAddress(req: ApiRequest) {
  const { userId } = await authenticate(req, 'withdraw', apiContext().auth);
  const p = parseParams(z.object({ id: idParam }), req.params);
  if (!(await addresses().remove(userId, p.id, Date.now())))
    throw new BinanceError(
      400,
      -1130,
      "Data sent for parameter 'id' is not valid: no such allowlisted address.",
    );
  return {};
}

// ---- Withdrawals -----------------------------------------------------------------------------------------

/** POST /sapi/v1/capital/withdraw/apply: locks amount + network fee and records the withdrawal; the wallet sends it. */
export async function withdrawApply(req: ApiRequest) {
  const { userId } = await authenticate(req, 'withdraw', apiContext().auth);
  const p = parseParams(
    z.object({
      ...destinationParams,
      amount: z.string().max(40),
      withdrawOrderId: z.string().max(64).optional(),
      addressTag: z.string().max(0).optional(),
      name: z.string().max(100).optional(),
      walletType: z.enum(['0']).optional(),
      transactionFeeFlag: z.enum(['false']).optional(),
      totpCode: totpCodeParam,
    }),
    req.params,
  );
  const network = depositNetwork(p.coin, p.network);
  const coin = configuredChainCoins().find((c) => c.coin === p.coin && c.network === network)!;
  // isAddress refuses a mixed-case address whose EIP-55 checksum is wrong (a mistyped address).
  const address = withdrawAddress(p.address);
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
  const nowMs = Date.now();
  const totp = await secondFactor(userId, p.totpCode, nowMs);
  const r = await withdrawals().apply({
    userId,
    coin: p.coin,
    network,
    address,
    amount,
    fee: rules.fee,
    chainAmount,
    dailyLimit: rules.dailyLimit,
    globalDailyLimit: rules.globalDailyLimit,
    totp,
    nowMs,
  });
  if (!('refused' in r)) return { id: String(r.id) };
  switch (r.refused) {
    case 'totp': // 2FA turned on, or the code used, between the check above and the transaction
      throw totp ? usedCode() : mandatoryParam('totpCode');
    case 'address':
      throw new BinanceError(
        400,
        -4035,
        `This address is not on the whitelist: ${address} is not on your withdrawal allowlist for ${p.coin} on ${network}; add it with POST /cirrus/v1/withdrawAddresses.`,
      );
    case 'held':
      throw new BinanceError(
        400,
        -4036,
        `The new address needs to wait: ${address} is on hold until ${new Date(r.usableMs).toISOString()}.`,
      );
    case 'insufficient':
      throw new BinanceError(400, -4026, 'User has insufficient balance.');
    case 'velocity':
      throw new BinanceError(
        400,
        -4023,
        `The withdrawal exceeds the daily limit of ${formatUnits(rules.dailyLimit, scale)} ${p.coin} (fees included).`,
      );
    case 'global-velocity':
      throw new BinanceError(
        400,
        -4015,
        `Withdraw is limited: the exchange-wide 24 h withdrawal limit of ${p.coin} is reached; try again later.`,
      );
  }
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
