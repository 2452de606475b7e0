// Signed account endpoints: GET /api/v3/account (balances from the ledger) and GET /api/v3/myTrades.
import { z } from 'zod';
import { MARKETS } from '../../lib/markets';
import { authenticate } from '../shared/auth/signed-request';
import { createApiHandler, parseParams, router, type ApiRequest } from '../shared/http';
import { BinanceError } from '../shared/http/binance-error';
import { assetScale, formatUnits, parseUnits } from '../shared/money';
import { apiContext } from './context';
import { myTradeJson } from './orders/format';
import { limitParam } from './trading';

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
  const id = z
    .string()
    .regex(/^\d{1,16}$/)
    .transform(Number)
    .optional();
  const p = parseParams(
    z.object({
      symbol: z.string().regex(/^[A-Z0-9]{2,20}$/),
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
  const trades = await ctx.userTrades.list(userId, spec.symbol, p);
  return trades
    .filter((t) => t.userId === userId)
    .map((t) => myTradeJson(spec, t, assetScale(t.commissionAsset)));
}

export const handler = createApiHandler(
  router({ 'GET /api/v3/account': account, 'GET /api/v3/myTrades': myTrades }),
);
