// The chain listener (EventBridge schedule): finds the next range of confirmed blocks, reads the ERC-20
// Transfer logs of the watched tokens in it and advances the checkpoint. Attributing transfers to users'
// deposit addresses and crediting them is the wallet work's (docs/architecture.md); until then it reports counts.
import { JsonRpcProvider, id as topicId } from 'ethers';
import { z } from 'zod';
import { TABLES } from '../../lib/resources';
import { dynamoClient, requiredEnv } from '../shared/clients';
import { logger } from '../shared/powertools';
import { CheckpointStore } from './checkpoint-store';
import { nextScanRange } from './scan-range';

const TRANSFER_TOPIC = topicId('Transfer(address,address,uint256)');
const MAX_BLOCKS_PER_RUN = 500;

const configSchema = z.object({
  CHAIN_RPC_URL: z.string().url(),
  CHAIN_NETWORK: z.string().min(1),
  CHAIN_CONFIRMATIONS: z.coerce.number().int().min(1),
  CHAIN_TOKENS: z
    .string()
    .default('{}')
    .transform((s) => JSON.parse(s) as unknown)
    .pipe(z.record(z.string(), z.string().regex(/^0x[0-9a-fA-F]{40}$/))),
});

let provider: JsonRpcProvider | undefined;
let checkpoints: CheckpointStore | undefined;

export interface ScanResult {
  scanned?: { from: number; to: number };
  transfers: number;
  advanced: boolean;
}

export const handler = async (): Promise<ScanResult> => {
  const config = configSchema.parse(process.env);
  provider ??= new JsonRpcProvider(config.CHAIN_RPC_URL, undefined, { staticNetwork: true });
  checkpoints ??= new CheckpointStore(dynamoClient(), requiredEnv(TABLES.checkpoints.envVar));

  const last = await checkpoints.lastScanned(config.CHAIN_NETWORK);
  const head = await provider.getBlockNumber();
  const range = nextScanRange(last, head, config.CHAIN_CONFIRMATIONS, MAX_BLOCKS_PER_RUN);
  if (!range) return { transfers: 0, advanced: false };

  const tokens = Object.values(config.CHAIN_TOKENS);
  const logs = tokens.length
    ? await provider.getLogs({
        address: tokens,
        topics: [TRANSFER_TOPIC],
        fromBlock: range.from,
        toBlock: range.to,
      })
    : [];
  const advanced = await checkpoints.advance(config.CHAIN_NETWORK, last, range.to, Date.now());
  logger.info('scanned', { ...range, head, transfers: logs.length, advanced });
  return { scanned: range, transfers: logs.length, advanced };
};
