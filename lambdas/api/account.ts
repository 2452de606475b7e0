// Signed account endpoints: GET /api/v3/account (balances from the ledger), GET /api/v3/myTrades, the
// commission rates (/api/v3/account/commission, /sapi/v1/asset/tradeFee), the order rate limits
// (/api/v3/rateLimit/order) and the coins (/sapi/v1/capital/config/getall).
import { z } from 'zod';
import type { MarketSpec } from '@engine/core/types';
import { MARKETS } from '@contracts/markets';
import { authenticate } from '../shared/auth/signed-request';
import { createApiHandler, parseParams, router, type ApiRequest } from '../shared/http';
import { idParam, limitParam, symbolParam } from '../shared/http/params';
import { BinanceError } from '../shared/http/binance-error';
import { assetScale, formatUnits, parseUnits } from '../shared/money';
import { dbPool } from '../shared/db';
import { orderCounts } from '../shared/ledger/order-repository';
import { apiContext } from './context';
import { coinList, configuredCoins } from './coins';
import {
  addWithdrawAddress,
  depositAddress,
  depositHistory,
  listWithdrawAddresses,
  removeWithdrawAddress,
  totpConfirm,
  totpDisable,
  totpEnroll,
  totpStatus,
  withdrawApply,
  withdrawHistory,
} from './capital';
import { ORDER_RATE_LIMITS } from '../shared/rate-limits';
import { myTradeJson } from './orders/format';

/** Binance reports commission rates as whole basis points. */
const bps = (rate: string) => Number(parseUnits(rate, 4));

async function account(req: ApiRequest) {
  const ctx = apiContext();
  const { userId } = await authenticate(req, 'read', ctx.auth);
  const balances = await ctx.ledger.getBalances(userId);
  const m = MARKETS[0];
  return {
    makerCommission: bps(m.makerFee),
    takerCommission: bps(m.takerFee),
    buyerCommission: 0,
    sellerCommission: 0,
    commissionRates: { maker: m.makerFee, taker: m.takerFee, buyer: '0.00000000', seller: '0.00000000' },
    canTrade: true,
    canWithdraw: true,
    canDeposit: true,
    brokered: false,
    requireSelfTradePrevention: false,
    preventSor: false,
    updateTime: Date.now(),
    accountType: 'SPOT',
    balances: balances.map((b) => ({
      asset: b.asset,
      free: formatUnits(b.available, assetScale(b.asset)),
      locked: formatUnits(b.locked, assetScale(b.asset)),
    })),
    permissions: ['SPOT'],
    uid: userId,
  };
}

async function myTrades(req: ApiRequest) {
  const ctx = apiContext();
  const { userId } = await authenticate(req, 'read', ctx.auth);
  const id = idParam.optional();
  const p = parseParams(
    z.object({
      symbol: symbolParam,
      orderId: id,
      startTime: id,
      endTime: id,
      fromId: id,
      limit: limitParam(1000, 500),
    }),
    req.params,
  );
  const spec = ctx.orderService.market(p.symbol);
  if (p.fromId !== undefined && (p.startTime !== undefined || p.endTime !== undefined)) {
    throw new BinanceError(400, -1106, "Parameter 'fromId' sent when not required.");
  }
  const trades = (await ctx.userTrades.list(userId, spec.symbol, p)).filter((t) => t.userId === userId);
  // The fills' read model has no list id; the live order rows (PostgreSQL) do.
  const listIds = await ctx.liveOrders.listIdsOf(trades.map((t) => t.orderId));
  return trades.map((t) => myTradeJson(spec, t, assetScale(t.commissionAsset), listIds.get(t.orderId)));
}

const bySymbol = new Map(MARKETS.map((m) => [m.symbol, m]));
const marketOf = (symbol: string): MarketSpec => {
  const spec = bySymbol.get(symbol);
  if (!spec) throw new BinanceError(400, -1121, 'Invalid symbol.');
  return spec;
};
/** "0.001" → "0.00100000" (never through floating point). */
const rate8 = (rate: string) => formatUnits(parseUnits(rate, 8), 8);
const ZERO8 = '0.00000000';

/** GET /api/v3/account/commission: the market's rates; Cirrus has no tax commission and no fee discount. */
async function commission(req: ApiRequest) {
  const ctx = apiContext();
  await authenticate(req, 'read', ctx.auth);
  const p = parseParams(z.object({ symbol: symbolParam }), req.params);
  const m = marketOf(p.symbol);
  return {
    symbol: m.symbol,
    standardCommission: { maker: rate8(m.makerFee), taker: rate8(m.takerFee), buyer: ZERO8, seller: ZERO8 },
    taxCommission: { maker: ZERO8, taker: ZERO8, buyer: ZERO8, seller: ZERO8 },
    discount: { enabledForAccount: false, enabledForSymbol: false, discountAsset: '', discount: ZERO8 },
  };
}

/** GET /sapi/v1/asset/tradeFee: one market (`symbol`) or all; rates printed as configured, as Binance does. */
async function tradeFee(req: ApiRequest) {
  const ctx = apiContext();
  await authenticate(req, 'read', ctx.auth);
  const p = parseParams(z.object({ symbol: symbolParam.optional() }), req.params);
  const markets = p.symbol === undefined ? MARKETS : [marketOf(p.symbol)];
  return markets.map((m) => ({ symbol: m.symbol, makerCommission: m.makerFee, takerCommission: m.takerFee }));
}

/** GET /api/v3/rateLimit/order: the ORDERS limits of exchangeInfo with the account's counts now. */
async function orderRateLimit(req: ApiRequest) {
  const ctx = apiContext();
  const { userId } = await authenticate(req, 'read', ctx.auth);
  const counts = await orderCounts(dbPool(), userId, Date.now());
  return ORDER_RATE_LIMITS.map((l) => ({
    ...l,
    count: l.interval === 'DAY' ? counts.perDay : counts.per10s,
  }));
}

/**
 * amount + fee per coin of the user's withdrawals not yet final (pending, broadcast): what withdraw/apply locked
 * and the wallet has not settled (lambdas/shared/ledger/withdrawals.ts owns the table; this only reads it).
 */
async function withdrawingByCoin(userId: number): Promise<Map<string, bigint>> {
  const r = await dbPool().query<{ coin: string; total: string }>(
    `SELECT coin, sum(amount + fee) AS total FROM withdrawals
      WHERE user_id = $1 AND status IN ('pending', 'broadcast') GROUP BY coin`,
    [userId],
  );
  return new Map(r.rows.map((row) => [row.coin, BigInt(row.total)]));
}

/** GET /sapi/v1/capital/config/getall: the listed coins with the caller's balances and the networks (./coins.ts). */
async function coins(req: ApiRequest) {
  const ctx = apiContext();
  const { userId } = await authenticate(req, 'read', ctx.auth);
  const cfg = configuredCoins();
  const [balances, withdrawing] = await Promise.all([
    ctx.ledger.getBalances(userId),
    withdrawingByCoin(userId),
  ]);
  const byAsset = new Map(balances.map((b) => [b.asset, b]));
  return coinList(cfg, (coin) => ({
    available: byAsset.get(coin)?.available ?? 0n,
    locked: byAsset.get(coin)?.locked ?? 0n,
    withdrawing: withdrawing.get(coin) ?? 0n,
  }));
}

export const handler = createApiHandler(
  router({
    'GET /api/v3/account': account,
    'GET /api/v3/myTrades': myTrades,
    'GET /api/v3/account/commission': commission,
    'GET /api/v3/rateLimit/order': orderRateLimit,
    'GET /sapi/v1/asset/tradeFee': tradeFee,
    'GET /sapi/v1/capital/config/getall': coins,
    'GET /sapi/v1/capital/deposit/address': depositAddress,
    'GET /sapi/v1/capital/deposit/hisrec': depositHistory,
    'POST /sapi/v1/capital/withdraw/apply': withdrawApply,
    'GET /sapi/v1/capital/withdraw/history': withdrawHistory,
    'GET /cirrus/v1/totp': totpStatus,
    'POST /cirrus/v1/totp/enroll': totpEnroll,
    'POST /cirrus/v1/totp/confirm': totpConfirm,
    'POST /cirrus/v1/totp/disable': totpDisable,
    'GET /cirrus/v1/withdrawAddresses': listWithdrawAddresses,
    'POST /cirrus/v1/withdrawAddresses': addWithdrawAddress,
    'DELETE /cirrus/v1/withdrawAddresses': removeWithdrawAddress,
  }),
);
