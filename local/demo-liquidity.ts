// --demo-liquidity: a market-maker user rests a ladder of orders on each market through the signed REST
// API (the same path any client takes), so a fresh local exchange has a book to trade against.
import { createHmac } from 'node:crypto';
import { Pool } from 'pg';
import { KMSClient } from '@aws-sdk/client-kms';
import { ApiKeyStore } from '@lambdas/shared/auth/api-keys';
import { LedgerRepository } from '@lambdas/shared/ledger/repository';
import { assetScale, parseUnits } from '@lambdas/shared/money';

const LADDER: Record<string, { mid: number; qty: string }> = {
  BTCUSDT: { mid: 30_000, qty: '0.05' },
  ETHUSDT: { mid: 2_000, qty: '0.5' },
};

export async function placeDemoLiquidity(restUrl: string, _dataDir: string): Promise<number> {
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 2 });
  const kms = new KMSClient({});
  let placed = 0;
  try {
    const ledger = new LedgerRepository(pool);
    const email = 'market-maker@demo.cirrus.local';
    const userId = (await ledger.findUserByEmail(email)) ?? (await ledger.createUser(email));
    for (const [asset, amount] of Object.entries({ BTC: '100', ETH: '1000', USDT: '10000000' })) {
      await ledger.creditDeposit(
        userId,
        asset,
        parseUnits(amount, assetScale(asset)),
        `demo-liquidity:${asset}`,
      );
    }
    const key = await new ApiKeyStore(pool, kms, process.env.DATA_KEY_ID as string).create(
      userId,
      ['read', 'trade'],
      'demo liquidity',
    );
    for (const [symbol, { mid, qty }] of Object.entries(LADDER)) {
      for (let i = 1; i <= 10; i++) {
        for (const side of ['BUY', 'SELL'] as const) {
          const price = side === 'BUY' ? mid - i * (mid / 1000) : mid + i * (mid / 1000);
          const body = new URLSearchParams({
            symbol,
            side,
            type: 'LIMIT',
            timeInForce: 'GTC',
            quantity: qty,
            price: String(price),
            newOrderRespType: 'ACK',
            timestamp: String(Date.now()),
          }).toString();
          const signature = createHmac('sha256', key.secretKey).update(body).digest('hex');
          const res = await fetch(`${restUrl}/api/v3/order`, {
            method: 'POST',
            headers: { 'X-MBX-APIKEY': key.apiKey, 'content-type': 'application/x-www-form-urlencoded' },
            body: `${body}&signature=${signature}`,
          });
          if (res.ok) placed++;
        }
      }
    }
    return placed;
  } finally {
    kms.destroy();
    await pool.end();
  }
}
