// Deposits and withdrawals in Binance's shapes (GET /sapi/v1/capital/deposit/hisrec and
// /sapi/v1/capital/withdraw/history), shared by those endpoints and the search indexer's documents. Pure.
import { getAddress } from 'ethers';
import type { DepositRow } from '../shared/ledger/deposits';
import type { WithdrawalRow, WithdrawalStatus } from '../shared/ledger/withdrawals';
import { assetScale, formatUnits } from '../shared/money';

/** Binance's deposit status codes: 0 pending, 1 success (credited). */
export const DEPOSIT_STATUS_CODE = { pending: 0, credited: 1 } as const;

export function depositJson(d: DepositRow) {
  return {
    id: String(d.id),
    amount: formatUnits(d.amount, assetScale(d.coin)),
    coin: d.coin,
    network: d.network,
    status: DEPOSIT_STATUS_CODE[d.status],
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

/** Binance's withdrawal status codes: 4 processing, 5 failure, 6 completed. */
export const WITHDRAW_STATUS: Record<WithdrawalStatus, number> = {
  pending: 4,
  broadcast: 4,
  confirmed: 6,
  failed: 5,
};
export const statusesOf = (code: number) =>
  (Object.keys(WITHDRAW_STATUS) as WithdrawalStatus[]).filter((s) => WITHDRAW_STATUS[s] === code);

/** Binance prints applyTime as "YYYY-MM-DD HH:mm:ss" (UTC). */
const utc = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

export function withdrawalJson(w: WithdrawalRow) {
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
