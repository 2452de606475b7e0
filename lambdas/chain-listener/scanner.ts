// One run of the blockchain-event listener (docs/wallets.md): check the checkpoint's tip is still on the
// chain (else roll back to the fork point and drop the pending deposits above it), scan the next blocks up
// to the head for native and ERC-20 transfers to deposit addresses, record them as pending, move the
// checkpoint, then credit every pending deposit with enough confirmations. Each step is idempotent, so a
// run that dies anywhere is finished by the next one without a double credit.
import type { ChainCoin } from '../wallet/chain-assets';
import { toLedgerUnits } from '../wallet/chain-assets';
import type { DepositRepository, DepositRow, ObservedDeposit } from '../shared/ledger/deposits';
import type { ChainBlock, ChainPort } from './chain-reader';
import type { ChainCheckpoint, CheckpointPort } from './checkpoint-store';

export interface ScannerConfig {
  /** The checkpoint's key and the deposits' network (Binance's code, e.g. ETH). */
  network: string;
  /** A deposit in block b is credited once the head is at least b + confirmations − 1. */
  confirmations: number;
  coins: ChainCoin[];
  ledgerScale: (coin: string) => number;
  maxBlocksPerRun: number;
  /** Block hashes kept in the checkpoint: the deepest reorg the listener can roll back. */
  keepHashes: number;
  /** The first run's first block (default: the head, as nothing older can be ours). */
  startBlock?: number;
}

export type DepositPort = Pick<
  DepositRepository,
  'owners' | 'record' | 'dropPendingFrom' | 'creditConfirmed' | 'updateConfirmations'
>;

export interface ScanResult {
  head: number;
  scanned?: { from: number; to: number };
  /** A reorg found: scanning resumes after `forkBlock` next run. */
  reorg?: { forkBlock: number; dropped: number };
  recorded: number;
  credited: DepositRow[];
  /** False when another run moved the checkpoint first, or a block changed under this run. */
  advanced: boolean;
}

export class DepositScanner {
  constructor(
    private readonly cfg: ScannerConfig,
    private readonly chain: ChainPort,
    private readonly checkpoints: CheckpointPort,
    private readonly deposits: DepositPort,
    private readonly now: () => number = Date.now,
  ) {}

  async runOnce(): Promise<ScanResult> {
    const { network } = this.cfg;
    const cp = await this.checkpoints.load(network);
    const head = await this.chain.head();
    const result: ScanResult = { head, recorded: 0, credited: [], advanced: false };

    if (cp) {
      const stored = new Map(cp.hashes);
      if ((await this.chain.blockHash(cp.lastScanned)) !== stored.get(cp.lastScanned)) {
        return { ...result, reorg: await this.rollBack(cp) };
      }
    }

    const from = cp ? cp.lastScanned + 1 : (this.cfg.startBlock ?? head);
    const to = Math.min(head, from + this.cfg.maxBlocksPerRun - 1);
    let tip = cp;
    if (from <= to) {
      const blocks = await this.readBlocks(from, to, cp);
      if (!blocks) return result; // the chain moved under this run: the next run sees the reorg
      const found = await this.findDeposits(blocks);
      if (found === undefined) return result;
      result.recorded = await this.deposits.record(found.deposits, found.owners, {
        requiredConfirmations: this.cfg.confirmations,
        nowMs: this.now(),
      });
      const hashes = [...(cp?.hashes ?? []), ...blocks.map((b): [number, string] => [b.number, b.hash])];
      tip = { lastScanned: to, hashes: hashes.slice(-this.cfg.keepHashes) };
      if (!(await this.checkpoints.save(network, cp?.lastScanned, tip, this.now()))) return result;
      result.scanned = { from, to };
    }
    result.advanced = true;
    if (!tip) return result;
    // Only blocks this listener has seen on the canonical chain (up to its checkpoint) are ever credited.
    const confirmed = Math.min(tip.lastScanned, head - this.cfg.confirmations + 1);
    await this.deposits.updateConfirmations(network, head);
    result.credited = await this.deposits.creditConfirmed(network, confirmed, this.now());
    return result;
  }

  /** Walks back the kept hashes to the newest block still on the chain; everything above it is dropped. */
  private async rollBack(cp: ChainCheckpoint): Promise<{ forkBlock: number; dropped: number }> {
    let keep: Array<[number, string]> | undefined;
    for (let i = cp.hashes.length - 1; i >= 0; i--) {
      const [n, hash] = cp.hashes[i];
      if ((await this.chain.blockHash(n)) === hash) {
        keep = cp.hashes.slice(0, i + 1);
        break;
      }
    }
    if (!keep) {
      throw new Error(
        `reorg deeper than the ${cp.hashes.length} block hashes kept (last scanned ${cp.lastScanned}): needs an operator`,
      );
    }
    const forkBlock = keep[keep.length - 1][0];
    // Deposits first: should the checkpoint write fail, the next run finds the same fork and repeats this.
    const dropped = await this.deposits.dropPendingFrom(this.cfg.network, forkBlock + 1);
    await this.checkpoints.save(
      this.cfg.network,
      cp.lastScanned,
      { lastScanned: forkBlock, hashes: keep },
      this.now(),
    );
    return { forkBlock, dropped };
  }

  /** The blocks from..to, each the child of the one before (and the first of the checkpoint's tip). */
  private async readBlocks(from: number, to: number, cp: ChainCheckpoint | undefined) {
    const blocks: ChainBlock[] = [];
    let parent = cp?.hashes.at(-1)?.[1];
    for (let n = from; n <= to; n++) {
      const b = await this.chain.block(n);
      if (!b || (parent !== undefined && b.parentHash !== parent)) return undefined;
      blocks.push(b);
      parent = b.hash;
    }
    return blocks;
  }

  /** Native transfers and token Transfer logs in `blocks` to any deposit address, in ledger units. */
  private async findDeposits(
    blocks: ChainBlock[],
  ): Promise<{ deposits: ObservedDeposit[]; owners: Map<string, number> } | undefined> {
    const { network } = this.cfg;
    const hashOf = new Map(blocks.map((b) => [b.number, b.hash]));
    const native = this.cfg.coins.find((c) => c.token === undefined);
    const tokens = new Map(this.cfg.coins.filter((c) => c.token).map((c) => [c.token as string, c]));
    const candidates: ObservedDeposit[] = [];
    const add = (coin: ChainCoin, d: Omit<ObservedDeposit, 'network' | 'coin' | 'amount'>) => {
      const amount = toLedgerUnits(d.chainAmount, coin.decimals, this.cfg.ledgerScale(coin.coin));
      // Dust finer than the ledger's scale is not a deposit the ledger can hold.
      if (amount > 0n) candidates.push({ ...d, network, coin: coin.coin, amount });
    };
    if (native)
      for (const b of blocks)
        for (const t of b.transfers)
          add(native, {
            txHash: t.hash,
            logIndex: -1,
            address: t.to,
            chainAmount: t.value,
            blockNumber: b.number,
            blockHash: b.hash,
          });
    const logs = await this.chain.tokenTransfers([...tokens.keys()], blocks[0].number, blocks.at(-1)!.number);
    for (const l of logs) {
      // A log from another version of the block: the chain moved under this run.
      if (hashOf.get(l.blockNumber) !== l.blockHash) return undefined;
      add(tokens.get(l.token)!, {
        txHash: l.txHash,
        logIndex: l.logIndex,
        address: l.to,
        chainAmount: l.value,
        blockNumber: l.blockNumber,
        blockHash: l.blockHash,
      });
    }
    const owners = await this.deposits.owners(network, [...new Set(candidates.map((d) => d.address))]);
    const ours = candidates.filter((d) => owners.has(d.address));
    // A reverted transaction still carries its value in the block, but moved nothing.
    const out: ObservedDeposit[] = [];
    for (const d of ours) if (d.logIndex >= 0 || (await this.chain.succeeded(d.txHash))) out.push(d);
    return { deposits: out, owners };
  }
}
