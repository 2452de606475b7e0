// The hot wallet's withdrawal run (docs/wallets.md#withdrawals), scheduled in AWS and on an interval locally:
// first the broadcast withdrawals (a receipt of any of their attempts → finalise once; none yet → rebroadcast
// the latest, or replace it with the same nonce and higher fees once it has waited too long), then the
// pending ones, each signed with the next nonce, stored, then broadcast. Runs never overlap (one schedule, one
// local interval), which is what makes the nonce sequence safe. No AWS here: the signer is given.
import { Interface, Transaction, type Signature } from 'ethers';
import type {
  SignedTransaction,
  WithdrawalAttempt,
  WithdrawalRepository,
  WithdrawalRow,
} from '../shared/ledger/withdrawals';
import type { ChainCoin } from './chain-assets';
import { replacementFees, type Eip1559Fees, type SuggestedFees } from './fee-bump';
import type { ReplacementPolicy } from './withdraw-config';

export interface DigestSigner {
  address(): Promise<string>;
  /** The Ethereum signature (r, low s, v) of a 32-byte digest. */
  sign(digest: string): Promise<Signature>;
}

/** What the run asks of the node (ethers' JsonRpcProvider fits). */
export interface WalletChain {
  getBlockNumber(): Promise<number>;
  getTransactionReceipt(hash: string): Promise<{ blockNumber: number; status: number | null } | null>;
  getTransactionCount(address: string, blockTag: 'pending'): Promise<number>;
  getNetwork(): Promise<{ chainId: bigint }>;
  getFeeData(): Promise<SuggestedFees>;
  broadcastTransaction(raw: string): Promise<unknown>;
}

/** What the run reads and writes in the ledger (WithdrawalRepository fits). */
export type WithdrawalStore = Pick<
  WithdrawalRepository,
  'open' | 'nextNonce' | 'attempts' | 'markSigned' | 'replace' | 'confirm' | 'fail'
>;

export interface ReplacedTransaction extends Eip1559Fees {
  id: number;
  nonce: number;
  txHash: string;
  /** The ceiling (WITHDRAW_MAX_FEE_PER_GAS_GWEI) held maxFeePerGas down. */
  capped: boolean;
}

export interface WithdrawalRunResult {
  sent: WithdrawalRow[];
  /** Stuck transactions re-signed with the same nonce and higher fees, and broadcast. */
  replaced: ReplacedTransaction[];
  /** Stuck withdrawals whose fee is at the ceiling: not replaced, their latest transaction rebroadcast. */
  atFeeCeiling: number[];
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
      repo: WithdrawalStore;
      provider: WalletChain;
      signer: DigestSigner;
      network: string;
      coins: ChainCoin[];
      confirmations: number;
      replacement: ReplacementPolicy;
      now?: () => number;
    },
  ) {}

  private get now(): () => number {
    return this.deps.now ?? Date.now;
  }

  async runOnce(): Promise<WithdrawalRunResult> {
    const result: WithdrawalRunResult = {
      sent: [],
      replaced: [],
      atFeeCeiling: [],
      confirmed: [],
      failed: [],
    };
    const open = await this.deps.repo.open(this.deps.network);
    const broadcast = open.filter((x) => x.status === 'broadcast');
    if (broadcast.length > 0) await this.followBroadcast(broadcast, result);
    const pending = open.filter((x) => x.status === 'pending');
    if (pending.length > 0) await this.signPending(pending, result);
    return result;
  }

  /** Finalises mined withdrawals; rebroadcasts or replaces the others' latest transaction. */
  private async followBroadcast(broadcast: WithdrawalRow[], result: WithdrawalRunResult): Promise<void> {
    const { repo, provider } = this.deps;
    const head = await provider.getBlockNumber();
    const attemptsOf = await repo.attempts(broadcast.map((w) => w.id));
    let suggested: Promise<SuggestedFees> | undefined;
    for (const w of broadcast) {
      // Signing stores attempt 0 with the status change (and migration 15 copied the earlier ones in).
      const attempts = attemptsOf.get(w.id) ?? [];
      if (attempts.length === 0)
        throw new Error(`withdrawal ${w.id} is broadcast with no stored transaction`);
      const mined = await this.minedAttempt(attempts);
      if (mined) {
        // Mined but not yet deep enough: wait (a replacement now could only be refused, nonce too low).
        if (head - mined.receipt.blockNumber + 1 < this.deps.confirmations) continue;
        if (mined.receipt.status === 1) {
          if (await repo.confirm(w.id, mined.txHash, this.now())) result.confirmed.push(w.id);
        } else if (await repo.fail(w.id, mined.txHash, this.now())) result.failed.push(w.id);
        continue;
      }
      const latest = attempts[attempts.length - 1];
      if (this.now() - latest.signedMs < this.deps.replacement.replaceAfterMs) {
        // Dropped from the node's pool (or a crash before the broadcast): the same signed transaction again.
        await this.broadcast(latest.rawTx);
        continue;
      }
      suggested ??= provider.getFeeData();
      const replaced = await this.replace(w, latest, await suggested);
      if (replaced === 'at-ceiling') {
        result.atFeeCeiling.push(w.id);
        await this.broadcast(latest.rawTx);
      } else if (replaced) result.replaced.push(replaced);
    }
  }

  /** The attempt that mined, if any (only one can: they share a nonce); the newest is the likeliest. */
  private async minedAttempt(attempts: WithdrawalAttempt[]) {
    for (const a of [...attempts].reverse()) {
      const receipt = await this.deps.provider.getTransactionReceipt(a.txHash);
      if (receipt) return { txHash: a.txHash, receipt };
    }
    return undefined;
  }

  /**
   * Re-signs `latest` with the same nonce, recipient, value, data and gas limit and higher fees; stores it,
   * then broadcasts it. Undefined when another writer replaced it first.
   */
  private async replace(
    w: WithdrawalRow,
    latest: WithdrawalAttempt,
    suggested: SuggestedFees,
  ): Promise<ReplacedTransaction | 'at-ceiling' | undefined> {
    const previous = Transaction.from(latest.rawTx);
    if (previous.type !== 2 || previous.maxFeePerGas === null || previous.maxPriorityFeePerGas === null)
      throw new Error(`withdrawal ${w.id}: its transaction is not EIP-1559`);
    const next = replacementFees(
      { maxFeePerGas: previous.maxFeePerGas, maxPriorityFeePerGas: previous.maxPriorityFeePerGas },
      suggested,
      this.deps.replacement.maxFeePerGas,
    );
    if ('atCeiling' in next) return 'at-ceiling';
    const tx = Transaction.from({
      type: 2,
      chainId: previous.chainId,
      nonce: previous.nonce,
      to: previous.to,
      value: previous.value,
      data: previous.data,
      gasLimit: previous.gasLimit,
      accessList: previous.accessList,
      ...next.fees,
    });
    const signed = await this.sign(tx);
    // Stored before it is sent, as the first attempt is: whatever reached the node is in the ledger.
    if (!(await this.deps.repo.replace(w.id, latest.txHash, signed))) return undefined;
    await this.broadcast(signed.raw);
    return { id: w.id, nonce: tx.nonce, txHash: signed.hash, ...next.fees, capped: next.capped };
  }

  private async signPending(pending: WithdrawalRow[], result: WithdrawalRunResult): Promise<void> {
    const { repo, provider, network } = this.deps;
    const from = await this.deps.signer.address();
    const chainNonce = await provider.getTransactionCount(from, 'pending');
    // A replacement keeps its withdrawal's nonce, so the ledger's highest nonce is still the last one used.
    let nonce = Math.max(chainNonce, await repo.nextNonce(network));
    const { chainId } = await provider.getNetwork();
    const fees = await provider.getFeeData();
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
      const signed = await this.sign(tx);
      // Stored before it is sent: a crash in between rebroadcasts this very transaction, never a second one.
      if (!(await repo.markSigned(w.id, { nonce, ...signed }))) continue;
      nonce++;
      await this.broadcast(signed.raw);
      result.sent.push({
        ...w,
        status: 'broadcast',
        nonce: tx.nonce,
        txHash: signed.hash,
        rawTx: signed.raw,
      });
    }
  }

  /** Signs `tx` through the digest signer and checks it comes from the hot wallet. */
  private async sign(tx: Transaction): Promise<SignedTransaction> {
    tx.signature = await this.deps.signer.sign(tx.unsignedHash);
    if (tx.from?.toLowerCase() !== (await this.deps.signer.address()).toLowerCase())
      throw new Error('signed transaction is not from the hot wallet');
    return {
      hash: tx.hash!,
      raw: tx.serialized,
      maxFeePerGas: tx.maxFeePerGas!,
      maxPriorityFeePerGas: tx.maxPriorityFeePerGas!,
      signedMs: this.now(),
    };
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
