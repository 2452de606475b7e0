// The local stand-in for the wallet function's withdrawal schedule: the same WithdrawalSender the Lambda
// runs (lambdas/wallet/withdrawals-handler.ts), on an interval, signing through the KMS stand-in. A hot
// wallet on a fresh local node holds nothing: it is funded first from hardhat's dev account.
import { Contract, JsonRpcProvider, parseEther, parseUnits, toQuantity } from 'ethers';
import { createWithdrawalSender } from '@lambdas/wallet/withdrawals-handler';
import { devSigner } from './chain';
import { every } from './triggers/every';

const HOT_WALLET_ETH = parseEther('100');
const HOT_WALLET_USDT = parseUnits('1000000', 6);

/** Tops the hot wallet up to 100 ETH and 1,000,000 USDT from the dev account (local chains only). */
async function fundHotWallet(
  rpcUrl: string,
  usdt: string,
  hotWallet: string,
  nextNonce: number,
): Promise<void> {
  // No response cache: the dev account's nonce must be read fresh between its two transfers.
  const provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  try {
    const dev = devSigner(provider);
    // A new node with the ledger of an earlier one: the hot wallet continues after the nonces the ledger
    // used, or its next transaction would wait behind a gap forever.
    if ((await provider.getTransactionCount(hotWallet, 'pending')) < nextNonce)
      await provider.send('hardhat_setNonce', [hotWallet, toQuantity(nextNonce)]);
    const eth = await provider.getBalance(hotWallet);
    if (eth < HOT_WALLET_ETH)
      await (await dev.sendTransaction({ to: hotWallet, value: HOT_WALLET_ETH - eth })).wait();
    const token = new Contract(
      usdt,
      [
        'function balanceOf(address) view returns (uint256)',
        'function transfer(address,uint256) returns (bool)',
      ],
      dev,
    );
    const held = (await token.balanceOf(hotWallet)) as bigint;
    if (held < HOT_WALLET_USDT)
      await (
        (await token.transfer(hotWallet, HOT_WALLET_USDT - held)) as { wait(): Promise<unknown> }
      ).wait();
  } finally {
    provider.destroy();
  }
}

export async function startWithdrawalSender(opts: {
  rpcUrl: string;
  usdt: string;
  /** Fund the hot wallet from the dev account (a node this process started). */
  fund: boolean;
  everyMs?: number;
  log: (line: string) => void;
}): Promise<{ hotWallet: string; stop(): Promise<void> }> {
  const made = createWithdrawalSender();
  const hotWallet = await made.signer.address();
  if (opts.fund) await fundHotWallet(opts.rpcUrl, opts.usdt, hotWallet, await made.nextNonce());
  opts.log(`wallet       hot wallet ${hotWallet} (KMS key), withdrawals every ${opts.everyMs ?? 1_000} ms`);
  const schedule = every(
    opts.everyMs ?? 1_000,
    async () => {
      const r = await made.sender.runOnce();
      for (const w of r.sent)
        opts.log(`wallet       withdrawal ${w.id} broadcast: tx ${w.txHash} nonce ${w.nonce}`);
      for (const t of r.replaced)
        opts.log(
          `wallet       withdrawal ${t.id} stuck: replaced by tx ${t.txHash} nonce ${t.nonce} maxFeePerGas ${t.maxFeePerGas}${t.capped ? ' (at the fee ceiling)' : ''}`,
        );
      for (const id of r.atFeeCeiling)
        opts.log(`wallet       withdrawal ${id} stuck at the fee ceiling: not replaced`);
      for (const id of r.confirmed) opts.log(`wallet       withdrawal ${id} confirmed`);
      for (const id of r.failed) opts.log(`wallet       withdrawal ${id} failed on chain: lock released`);
    },
    (err) =>
      opts.log(`wallet       withdrawal run failed: ${err instanceof Error ? err.message : String(err)}`),
  );
  return {
    hotWallet,
    stop: async () => {
      await schedule.stop();
      made.stop();
    },
  };
}
