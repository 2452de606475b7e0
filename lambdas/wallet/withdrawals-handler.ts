// The wallet function's scheduled entry point (EventBridge, every minute; locally local/chain-withdrawals.ts):
// signs and broadcasts pending withdrawals with the hot-wallet key and finalises mined ones.
import { JsonRpcProvider } from 'ethers';
import { kmsClient, requiredEnv } from '../shared/clients';
import { dbPool } from '../shared/db';
import { WithdrawalRepository } from '../shared/ledger/withdrawals';
import { logger } from '../shared/powertools';
import { ETH_NETWORK, chainCoins } from './chain-assets';
import { KmsDigestSigner } from './kms-signer';
import { WithdrawalSender } from './withdrawal-sender';
import { lambdaHandler } from '../shared/handler';

export function createWithdrawalSender(): {
  sender: WithdrawalSender;
  signer: KmsDigestSigner;
  /** The nonce after the ones the ledger has used. */
  nextNonce(): Promise<number>;
  stop(): void;
} {
  // No response cache: nonces and receipts must be read fresh on every run.
  const provider = new JsonRpcProvider(requiredEnv('CHAIN_RPC_URL'), undefined, {
    staticNetwork: true,
    cacheTimeout: -1,
  });
  const signer = new KmsDigestSigner(kmsClient(), requiredEnv('HOT_WALLET_KEY_ID'));
  const repo = new WithdrawalRepository(dbPool());
  const sender = new WithdrawalSender({
    repo,
    provider,
    signer,
    network: ETH_NETWORK,
    coins: chainCoins(process.env.CHAIN_TOKENS),
    confirmations: Number(process.env.CHAIN_CONFIRMATIONS ?? '1'),
  });
  return { sender, signer, nextNonce: () => repo.nextNonce(ETH_NETWORK), stop: () => provider.destroy() };
}

let made: ReturnType<typeof createWithdrawalSender> | undefined;

/** One pass of the sender (also the wallet function's `processWithdrawals` action, inside its invocation). */
export const processWithdrawals = async (): Promise<{ sent: number; confirmed: number; failed: number }> => {
  made ??= createWithdrawalSender();
  const r = await made.sender.runOnce();
  for (const w of r.sent) logger.info('withdrawal broadcast', { id: w.id, txHash: w.txHash, nonce: w.nonce });
  if (r.confirmed.length || r.failed.length)
    logger.info('withdrawals finalised', { confirmed: r.confirmed, failed: r.failed });
  return { sent: r.sent.length, confirmed: r.confirmed.length, failed: r.failed.length };
};

export const handler = lambdaHandler(processWithdrawals);
