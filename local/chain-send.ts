// `npm run chain:send -- --to <address> --asset ETH|USDT --amount 1`: a deposit from the funded dev account
// to the chain `npm start` runs (its URL and token from .cirrus/chain.json; RPC_URL overrides the URL).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Contract, JsonRpcProvider, parseUnits } from 'ethers';
import { z } from 'zod';
import { chainInfoFile, devSigner } from './chain';

const DECIMALS = { ETH: 18, USDT: 6 } as const;

const argsSchema = z.object({
  to: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'an 0x address of 40 hex digits'),
  asset: z.enum(['ETH', 'USDT']),
  amount: z.string().regex(/^\d+(\.\d+)?$/, 'a positive decimal'),
  'data-dir': z.string().default(join(process.cwd(), '.cirrus')),
});

/** Sends `amount` of `asset` to `to`; resolves with the mined transaction's hash and block. */
export async function chainSend(
  rpcUrl: string,
  usdt: string,
  to: string,
  asset: keyof typeof DECIMALS,
  amount: string,
): Promise<{ hash: string; block: number }> {
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true });
  try {
    const signer = devSigner(provider);
    const value = parseUnits(amount, DECIMALS[asset]);
    const tx =
      asset === 'ETH'
        ? await signer.sendTransaction({ to, value })
        : await (new Contract(usdt, ['function transfer(address,uint256) returns (bool)'], signer).transfer(
            to,
            value,
          ) as Promise<{ wait(): Promise<unknown>; hash: string }>);
    const receipt = (await tx.wait()) as { blockNumber: number } | null;
    return { hash: tx.hash, block: receipt?.blockNumber ?? -1 };
  } finally {
    provider.destroy();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      to: { type: 'string' },
      asset: { type: 'string' },
      amount: { type: 'string' },
      'data-dir': { type: 'string' },
    },
  });
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    console.error(`chain:send: --${String(issue.path[0])}: ${issue.message}`);
    console.error('usage: npm run chain:send -- --to <address> --asset ETH|USDT --amount 1');
    process.exit(2);
  }
  const a = parsed.data;
  const info = JSON.parse(readFileSync(chainInfoFile(a['data-dir']), 'utf8')) as {
    rpcUrl: string;
    usdt: string;
  };
  const sent = await chainSend(process.env.RPC_URL ?? info.rpcUrl, info.usdt, a.to, a.asset, a.amount);
  console.log(`sent ${a.amount} ${a.asset} to ${a.to}: tx ${sent.hash} in block ${sent.block}`);
}

if (require.main === module)
  main().catch((err: unknown) => {
    console.error(`chain:send failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
