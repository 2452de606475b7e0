// The wallet function's scheduled entry point (EventBridge, every minute; locally local/chain-withdrawals.ts):
// signs and broadcasts pending withdrawals with the hot-wallet key and finalises mined ones.
import { JsonRpcProvider } from 'ethers';
import { kmsClient } from '../shared/clients';
import { dbPool } from '../shared/db';
import { WithdrawalRepository } from '../shared/ledger/withdrawals';
import { logger } from '../shared/powertools';
import { ETH_NETWORK, configuredChainCoins } from './chain-assets';
import { loadWalletConfig } from './config';
import { KmsDigestSigner } from './kms-signer';
import { replacementPolicy } from './withdraw-config';
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
  const config = loadWalletConfig();
  const provider = new JsonRpcProvider(config.CHAIN_RPC_URL, undefined, {
    staticNetwork: true,
    cacheTimeout: -1,
  });
  const signer = new KmsDigestSigner(kmsClient(), config.HOT_WALLET_KEY_ID);
  const repo = new WithdrawalRepository(dbPool());
  const sender = new WithdrawalSender({
    repo,
    provider,
    signer,
    network: ETH_NETWORK,
    coins: configuredChainCoins(),
    confirmations: config.CHAIN_CONFIRMATIONS,
    replacement: replacementPolicy(),
  });
  return { sender, signer, nextNonce: () => repo.nextNonce(ETH_NETWORK), stop: () => provider.destroy() };
}

let made: ReturnType<typeof createWithdrawalSender> | undefined;

/** One pass of the sender (also the wallet function's `processWithdrawals` action, inside its invocation). */
export const processWithdrawals = async (): Promise<{
  sent: number;
  replaced: number;
  confirmed: number;
  failed: number;
}> => {
  made ??= createWithdrawalSender();
  const r = await made.sender.runOnce();
  for (const w of r.sent) logger.info('withdrawal broadcast', { id: w.id, txHash: w.txHash, nonce: w.nonce });
  for (const t of r.replaced) {
    const fields = {
      id: t.id,
      txHash: t.txHash,
      nonce: t.nonce,
      maxFeePerGas: t.maxFeePerGas.toString(),
      maxPriorityFeePerGas: t.maxPriorityFeePerGas.toString(),
    };
    if (t.capped) logger.warn('stuck withdrawal replaced at the fee ceiling', fields);
    else logger.info('stuck withdrawal replaced', fields);
  }
  if (r.atFeeCeiling.length)
    logger.warn('stuck withdrawals at the fee ceiling (WITHDRAW_MAX_FEE_PER_GAS_GWEI): not replaced', {
      ids: r.atFeeCeiling,
    });
  if (r.confirmed.length || r.failed.length)
    logger.info('withdrawals finalised', { confirmed: r.confirmed, failed: r.failed });
  return {
    sent: r.sent.length,
    replaced: r.replaced.length,
    confirmed: r.confirmed.length,
    failed: r.failed.length,
  };
};

export const handler = lambdaHandler(processWithdrawals);
