// Signed deposit endpoints (docs/wallets.md), Binance's shapes: GET /sapi/v1/capital/deposit/address (the
// caller's address, derived from the deposit xpub on first request) and GET /sapi/v1/capital/deposit/hisrec
// (the caller's deposits). Served by the account function (lambdas/api/account.ts routes them here).
import { getAddress } from 'ethers';
import { z } from 'zod';
import { authenticate } from '../shared/auth/signed-request';
import { dbPool } from '../shared/db';
import { BinanceError, parseParams, type ApiRequest } from '../shared/http';
import { DepositRepository, type DepositRow } from '../shared/ledger/deposits';
import { assetScale, formatUnits } from '../shared/money';
import { chainCoins } from '../wallet/chain-assets';
import { depositAddressAt } from '../wallet/deposit-address';
import { depositXpub } from '../wallet/xpub-source';
import { apiContext } from './context';

let repo: DepositRepository | undefined;
const deposits = () => (repo ??= new DepositRepository(dbPool()));

const coinParam = z.string().regex(/^[A-Z0-9]{1,20}$/);
const msParam = z
  .string()
  .regex(/^\d{1,16}$/)
  .transform(Number)
  .optional();

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
      offset: z
        .string()
        .regex(/^\d{1,9}$/)
        .transform(Number)
        .default(0),
      limit: z
        .string()
        .regex(/^\d{1,4}$/)
        .transform(Number)
        .refine((n) => n >= 1 && n <= 1000, { message: 'limit must be between 1 and 1000' })
        .default(1000),
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
