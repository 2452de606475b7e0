// The TOTP second factor as the API checks it (docs/wallets.md#second-factor-totp): the `totpCode` parameter,
// a code verified against the user's sealed secret (lambdas/shared/auth/totp.ts) and Binance's answers.
// Used by the account function (withdrawals, allowlist, the /cirrus/v1/totp endpoints) and the users
// function (a key with the withdraw permission).
import { z } from 'zod';
import { TotpSecretBox, matchingStep } from '../shared/auth/totp';
import { kmsClient, requiredEnv } from '../shared/clients';
import { dbPool } from '../shared/db';
import { BinanceError, mandatoryParam } from '../shared/http';
import {
  TOTP_MAX_FAILURES,
  TotpRepository,
  totpLocked,
  type TotpProof,
  type TotpRow,
} from '../shared/ledger/totp';

let trepo: TotpRepository | undefined;
export const totps = () => (trepo ??= new TotpRepository(dbPool()));
let box: TotpSecretBox | undefined;
export const secretBox = () => (box ??= new TotpSecretBox(kmsClient(), requiredEnv('DATA_KEY_ID')));

/** The 2FA code parameter of withdraw/apply, withdrawAddresses, apiKeys and the TOTP endpoints. */
export const totpCodeParam = z.string().max(16).optional();

export const wrongCode = () =>
  new BinanceError(400, -4004, "Authentication failed: the 2FA code 'totpCode' is wrong.");
export const usedCode = () =>
  new BinanceError(
    400,
    -4004,
    "Authentication failed: this 2FA code 'totpCode' was already used; wait for the next one.",
  );

/**
 * Checks `code` against the user's sealed secret: the time step it is for, not yet used, or a Binance error
 * (a wrong code is counted; after TOTP_MAX_FAILURES in the window every code is refused unchecked).
 */
export async function verifyCode(
  userId: number,
  row: TotpRow,
  code: string | undefined,
  nowMs: number,
): Promise<TotpProof> {
  if (code === undefined || code === '') throw mandatoryParam('totpCode');
  if (totpLocked(row, nowMs))
    throw new BinanceError(
      400,
      -4005,
      `Too many invalid verify attempts: ${TOTP_MAX_FAILURES} wrong 2FA codes within 15 minutes; try again later.`,
    );
  const ciphertext = row.ciphertext!;
  const step = matchingStep(await secretBox().open(userId, ciphertext), code, nowMs);
  if (step === null) {
    await totps().recordFailure(userId, nowMs);
    throw wrongCode();
  }
  if (step <= row.lastStep) throw usedCode();
  return { step, ciphertext };
}

/** The verified code when the user's 2FA is on (it is then required), else undefined. */
export async function secondFactor(
  userId: number,
  code: string | undefined,
  nowMs: number,
): Promise<TotpProof | undefined> {
  const row = await totps().get(userId);
  if (!row?.enabled) return undefined;
  return verifyCode(userId, row, code, nowMs);
}
