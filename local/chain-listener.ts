// The local stand-in for the chain listener's EventBridge schedule: the same DepositScanner the Lambda runs
// (lambdas/chain-listener/handler.ts), on an interval. A node this process started is a new chain, so the
// checkpoint of the previous one is deleted first.
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { createDepositScanner } from '@lambdas/chain-listener/handler';
import { dynamoClient, requiredEnv } from '@lambdas/shared/clients';
import { ETH_NETWORK } from '@lambdas/wallet/chain-assets';
import { TABLES } from '@contracts/resources';
import { every } from './triggers/every';

export async function startChainListener(opts: {
  everyMs?: number;
  newChain: boolean;
  log: (line: string) => void;
}): Promise<{ stop(): Promise<void> }> {
  if (opts.newChain)
    await dynamoClient().send(
      new DeleteCommand({
        TableName: requiredEnv(TABLES.checkpoints.envVar),
        Key: { pk: `chain#${ETH_NETWORK}` },
      }),
    );
  const scanner = createDepositScanner();
  const schedule = every(
    opts.everyMs ?? 1_000,
    async () => {
      const r = await scanner.runOnce();
      if (r.reorg)
        opts.log(
          `chain        reorg: rolled back to block ${r.reorg.forkBlock}, ${r.reorg.dropped} pending deposits dropped`,
        );
      for (const d of r.credited)
        opts.log(`chain        deposit credited: ${d.coin} tx ${d.txHash} (block ${d.blockNumber})`);
    },
    (err) =>
      opts.log(`chain        listener run failed: ${err instanceof Error ? err.message : String(err)}`),
  );
  return { stop: () => schedule.stop() };
}
