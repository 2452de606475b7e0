// The wallet function: the only principal the hot-wallet key policy lets sign (lib/stacks/keys-stack.ts).
// Invoked by other Cirrus functions and by its schedule, never from the internet: it answers the hot
// wallet's address, and `processWithdrawals` (the schedule's input) signs, sends and finalises withdrawals.
import { GetPublicKeyCommand } from '@aws-sdk/client-kms';
import { z } from 'zod';
import { kmsClient } from '../shared/clients';
import { walletConfig } from './config';
import { logger } from '../shared/powertools';
import { addressFromSpki } from './hot-wallet';
import { processWithdrawals } from './withdrawals-handler';
import { lambdaHandler } from '../shared/handler';

const walletRequestSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('hotWalletAddress') }),
  z.object({ action: z.literal('processWithdrawals') }),
]);

export type WalletResponse =
  | { ok: true; address: string; network: string }
  | { ok: true; sent: number; confirmed: number; failed: number }
  | { ok: false; code: number; msg: string };

let address: Promise<string> | undefined;

async function hotWalletAddress(): Promise<string> {
  const out = await kmsClient().send(new GetPublicKeyCommand({ KeyId: walletConfig().HOT_WALLET_KEY_ID }));
  if (out.KeySpec !== 'ECC_SECG_P256K1' || !out.PublicKey) {
    throw new Error(`hot-wallet key has spec ${out.KeySpec ?? 'unknown'}, expected ECC_SECG_P256K1`);
  }
  return addressFromSpki(out.PublicKey);
}

const handle = async (event: unknown): Promise<WalletResponse> => {
  const parsed = walletRequestSchema.safeParse(event);
  if (!parsed.success) {
    logger.warn('bad wallet request', { issues: parsed.error.issues });
    return { ok: false, code: -1102, msg: 'Unknown or malformed wallet action.' };
  }
  if (parsed.data.action === 'processWithdrawals') return { ok: true, ...(await processWithdrawals()) };
  // The key never changes: fetch its public key once per container (a failed fetch is retried next call).
  address ??= hotWalletAddress().catch((err: unknown) => {
    address = undefined;
    throw err;
  });
  return { ok: true, address: await address, network: walletConfig().CHAIN_NETWORK };
};

export const handler = lambdaHandler(handle);
