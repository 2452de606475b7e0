// The hot wallet's withdrawal run (docs/wallets.md#withdrawals), scheduled in AWS and on an interval locally:
// first the broadcast withdrawals (receipt → finalise once; none yet → rebroadcast the stored transaction),
// then the pending ones, each signed with the next nonce, stored, then broadcast. Runs never overlap (one
// schedule, one local interval), which is what makes the nonce sequence safe. No AWS here: the signer is given.
import { Interface, Transaction, type JsonRpcProvider, type Signature } from 'ethers';
import type { WithdrawalRepository, WithdrawalRow } from '../shared/ledger/withdrawals';
import type { ChainCoin } from './chain-assets';

export interface DigestSigner {
  address(): Promise<string>;
  /** The Ethereum signature (r, low s, v) of a 32-byte digest. */
  sign(digest: string): Promise<Signature>;
}

export interface WithdrawalRunResult {
  sent: WithdrawalRow[];
  confirmed: number[];
  failed: number[];
}

const ERC20 = new Interface(['function transfer(address to, uint256 amount) returns (bool)']);
/** A plain transfer costs exactly 21000; a token transfer well under 100000 (a fresh balance slot ~52000). */
const GAS_ETH = 21_000n;
const GAS_TOKEN = 100_000n;

export class WithdrawalSender {
  constructor(
    private readonly deps: {
      repo: WithdrawalRepository;
      provider: JsonRpcProvider;
      signer: DigestSigner;
      network: string;
      coins: ChainCoin[];
      confirmations: number;
      now?: () => number;
    },
  ) {}

  async runOnce(): Promise<WithdrawalRunResult> {
    const { repo, network } = this.deps;
    const now = this.deps.now ?? Date.now;
    const result: WithdrawalRunResult = { sent: [], confirmed: [], failed: [] };
    const open = await repo.open(network);
    const head = open.some((w) => w.status === 'broadcast') ? await this.deps.provider.getBlockNumber() : 0;
    for (const w of open.filter((x) => x.status === 'broadcast')) {
      const receipt = await this.deps.provider.getTransactionReceipt(w.txHash!);
      if (!receipt) {
        // Dropped from the node's pool (or a crash before the broadcast): the same signed transaction again.
        await this.broadcast(w.rawTx!);
        continue;
      }
      if (head - receipt.blockNumber + 1 < this.deps.confirmations) continue;
      if (receipt.status === 1) {
        if (await repo.confirm(w.id, now())) result.confirmed.push(w.id);
      } else if (await repo.fail(w.id, now())) result.failed.push(w.id);
    }
    const pending = open.filter((x) => x.status === 'pending');
    if (pending.length === 0) return result;
    const from = await this.deps.signer.address();
    const chainNonce = await this.deps.provider.getTransactionCount(from, 'pending');
    let nonce = Math.max(chainNonce, await repo.nextNonce(network));
    const { chainId } = await this.deps.provider.getNetwork();
    const fees = await this.deps.provider.getFeeData();
    for (const w of pending) {
      const coin = this.deps.coins.find((c) => c.coin === w.coin && c.network === w.network);
      if (!coin) throw new Error(`withdrawal ${w.id}: ${w.coin} on ${w.network} is not a chain coin`);
      const tx = Transaction.from({
        type: 2,
        chainId,
        nonce,
        maxFeePerGas: fees.maxFeePerGas,
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
        ...(coin.token
          ? {
              to: coin.token,
              value: 0n,
              gasLimit: GAS_TOKEN,
              data: ERC20.encodeFunctionData('transfer', [w.address, w.chainAmount]),
            }
          : { to: w.address, value: w.chainAmount, gasLimit: GAS_ETH, data: '0x' }),
      });
      tx.signature = await this.deps.signer.sign(tx.unsignedHash);
      if (tx.from?.toLowerCase() !== from.toLowerCase())
        throw new Error('signed transaction is not from the hot wallet');
      // Stored before it is sent: a crash in between rebroadcasts this very transaction, never a second one.
      if (!(await repo.markSigned(w.id, { nonce, hash: tx.hash!, raw: tx.serialized }))) continue;
      nonce++;
      await this.broadcast(tx.serialized);
      result.sent.push({ ...w, status: 'broadcast', nonce: tx.nonce, txHash: tx.hash, rawTx: tx.serialized });
    }
    return result;
  }

  private async broadcast(raw: string): Promise<void> {
    try {
      await this.deps.provider.broadcastTransaction(raw);
    } catch (err) {
      // Already known or already mined: the receipt check of the next run settles it.
      const msg = err instanceof Error ? err.message : String(err);
      if (!/already known|nonce too low|known transaction|already imported/i.test(msg)) throw err;
    }
  }
}
