// The blockchain-event listener (EventBridge schedule in AWS, an interval locally: local/chain-listener.ts):
// one DepositScanner run per invocation (lambdas/chain-listener/scanner.ts, docs/wallets.md).
import { z } from 'zod';
import { TABLES } from '@contracts/resources';
import { dynamoClient, requiredEnv } from '../shared/clients';
import { dbPool } from '../shared/db';
import { DepositRepository } from '../shared/ledger/deposits';
import { assetScale } from '../shared/money';
import { logger } from '../shared/powertools';
import { chainCoins, ETH_NETWORK } from '../wallet/chain-assets';
import { EthersChain } from './chain-reader';
import { CheckpointStore } from './checkpoint-store';
import { DepositScanner, type ScanResult } from './scanner';
import { lambdaHandler } from '../shared/handler';

const configSchema = z.object({
  CHAIN_RPC_URL: z.string().url(),
  CHAIN_CONFIRMATIONS: z.coerce.number().int().min(1),
  CHAIN_TOKENS: z.string().optional(),
  CHAIN_MAX_BLOCKS_PER_RUN: z.coerce.number().int().min(1).default(200),
  CHAIN_START_BLOCK: z.coerce.number().int().min(0).optional(),
});

/** A scanner configured from `env` (the local exchange makes one per start). */
export function createDepositScanner(env: NodeJS.ProcessEnv = process.env): DepositScanner {
  const config = configSchema.parse(env);
  return new DepositScanner(
    {
      network: ETH_NETWORK,
      confirmations: config.CHAIN_CONFIRMATIONS,
      coins: chainCoins(config.CHAIN_TOKENS),
      ledgerScale: assetScale,
      maxBlocksPerRun: config.CHAIN_MAX_BLOCKS_PER_RUN,
      // Post-merge Ethereum finalises within ~64 blocks: a reorg deeper than this is an incident.
      keepHashes: 128,
      startBlock: config.CHAIN_START_BLOCK,
    },
    new EthersChain(config.CHAIN_RPC_URL),
    new CheckpointStore(
      dynamoClient(),
      env[TABLES.checkpoints.envVar] ?? requiredEnv(TABLES.checkpoints.envVar),
    ),
    new DepositRepository(dbPool()),
  );
}

let scanner: DepositScanner | undefined;

const handle = async (): Promise<Omit<ScanResult, 'credited'> & { credited: number }> => {
  const r = await (scanner ??= createDepositScanner()).runOnce();
  if (r.reorg) logger.warn('chain reorg: rolled back', { ...r.reorg, head: r.head });
  for (const d of r.credited)
    logger.info('deposit credited', {
      txHash: d.txHash,
      logIndex: d.logIndex,
      coin: d.coin,
      block: d.blockNumber,
    });
  logger.info('scanned', { head: r.head, scanned: r.scanned, recorded: r.recorded, advanced: r.advanced });
  return { ...r, credited: r.credited.length };
};

export const handler = lambdaHandler(handle);
