// The listener's decisions that a live node rarely shows on cue (lambdas/chain-listener/scanner.ts): a block
// replaced while a run reads, a token log from another version of a block, a reverted transfer, dust, a
// transfer to a stranger, a reorg deeper than the kept hashes, and a rollback that drops only what its fork
// dropped. The chain, checkpoint and deposits are in memory here; the real ones are in the integration tests.
import type { ObservedDeposit } from '@lambdas/shared/ledger/deposits';
import type { ChainBlock, ChainPort, TokenTransfer } from '@lambdas/chain-listener/chain-reader';
import type { ChainCheckpoint, CheckpointPort } from '@lambdas/chain-listener/checkpoint-store';
import { DepositScanner, type DepositPort } from '@lambdas/chain-listener/scanner';

const USER = '0x00000000000000000000000000000000000000aa';
const STRANGER = '0x00000000000000000000000000000000000000bb';
const TOKEN = '0x00000000000000000000000000000000000000cc';
const ETH = 10n ** 18n;

/** A chain as a list of blocks; `fork(n, tag)` replaces everything from n on with blocks of another branch. */
class MemoryChain implements ChainPort {
  blocks: ChainBlock[] = [];
  logs: TokenTransfer[] = [];
  reverted = new Set<string>();
  /** Called once before each block read (to change the chain mid-run). */
  beforeRead?: (n: number) => void;

  constructor(length: number) {
    for (let n = 0; n < length; n++) this.push('a');
  }

  push(tag: string, transfers: ChainBlock['transfers'] = []): ChainBlock {
    const n = this.blocks.length;
    const b = { number: n, hash: `0x${tag}${n}`, parentHash: n ? this.blocks[n - 1].hash : '0x0', transfers };
    this.blocks.push(b);
    return b;
  }

  fork(from: number, tag: string, length: number): void {
    this.blocks = this.blocks.slice(0, from);
    this.logs = this.logs.filter((l) => l.blockNumber < from);
    for (let n = from; n < length; n++) this.push(tag);
  }

  head = async () => this.blocks.length - 1;
  blockHash = async (n: number) => this.blocks[n]?.hash;
  block = async (n: number) => {
    this.beforeRead?.(n);
    return this.blocks[n];
  };
  succeeded = async (tx: string) => !this.reverted.has(tx);
  tokenTransfers = async (_tokens: string[], from: number, to: number) =>
    this.logs.filter((l) => l.blockNumber >= from && l.blockNumber <= to);
}

class MemoryCheckpoints implements CheckpointPort {
  cp?: ChainCheckpoint;
  load = async () => this.cp;
  save = async (_n: string, expected: number | undefined, next: ChainCheckpoint) => {
    if (this.cp?.lastScanned !== expected) return false;
    this.cp = next;
    return true;
  };
}

type Row = ObservedDeposit & { userId: number; status: 'pending' | 'credited' };

class MemoryDeposits implements DepositPort {
  rows: Row[] = [];
  owners = async (_n: string, addresses: string[]) =>
    new Map(addresses.filter((a) => a === USER).map((a) => [a, 7]));
  record = async (ds: ObservedDeposit[], owners: Map<string, number>) => {
    let added = 0;
    for (const d of ds)
      if (!this.rows.some((r) => r.txHash === d.txHash && r.logIndex === d.logIndex)) {
        this.rows.push({ ...d, userId: owners.get(d.address)!, status: 'pending' });
        added++;
      }
    return added;
  };
  dropPendingFrom = async (_n: string, from: number) => {
    const before = this.rows.length;
    this.rows = this.rows.filter((r) => r.status !== 'pending' || r.blockNumber < from);
    return before - this.rows.length;
  };
  updateConfirmations = async () => undefined;
  creditConfirmed = async (_n: string, upTo: number) => {
    const due = this.rows.filter((r) => r.status === 'pending' && r.blockNumber <= upTo);
    for (const r of due) r.status = 'credited';
    return due.map((r) => ({
      id: 0,
      network: r.network,
      txHash: r.txHash,
      logIndex: r.logIndex,
      coin: r.coin,
      address: r.address,
      amount: r.amount,
      blockNumber: r.blockNumber,
      confirmations: 0,
      requiredConfirmations: 0,
      status: 'credited' as const,
      insertMs: 0,
      creditedMs: 0,
    }));
  };
}

function setup(confirmations = 2, keepHashes = 8) {
  const chain = new MemoryChain(5);
  const checkpoints = new MemoryCheckpoints();
  const deposits = new MemoryDeposits();
  const scanner = new DepositScanner(
    {
      network: 'ETH',
      confirmations,
      coins: [
        { coin: 'ETH', network: 'ETH', decimals: 18 },
        { coin: 'USDT', network: 'ETH', token: TOKEN, decimals: 6 },
      ],
      ledgerScale: () => 8,
      maxBlocksPerRun: 100,
      keepHashes,
    },
    chain,
    checkpoints,
    deposits,
  );
  return { chain, checkpoints, deposits, scanner };
}

describe('the deposit scanner', () => {
  it('records ours only: not a stranger, not a reverted transfer, not dust; credits after the confirmations', async () => {
    const { chain, deposits, scanner } = setup(2);
    await scanner.runOnce(); // first run: checkpoint at the head (block 4)
    chain.push('a', [
      { hash: '0xok', to: USER, value: 2n * ETH },
      { hash: '0xstranger', to: STRANGER, value: ETH },
      { hash: '0xreverted', to: USER, value: ETH },
      { hash: '0xdust', to: USER, value: 10n ** 10n - 1n },
    ]);
    chain.reverted.add('0xreverted');
    const b = chain.blocks[5];
    chain.logs.push({
      token: TOKEN,
      to: USER,
      value: 5_000_000n,
      txHash: '0xusdt',
      logIndex: 3,
      blockNumber: 5,
      blockHash: b.hash,
    });

    const first = await scanner.runOnce();
    expect(first).toMatchObject({ scanned: { from: 5, to: 5 }, recorded: 2, credited: [] });
    expect(deposits.rows.map((r) => [r.txHash, r.logIndex, r.coin, r.amount])).toEqual([
      ['0xok', -1, 'ETH', 200_000_000n],
      ['0xusdt', 3, 'USDT', 500_000_000n],
    ]);
    chain.push('a');
    const second = await scanner.runOnce();
    expect(second.credited.map((d) => d.txHash)).toEqual(['0xok', '0xusdt']);
    expect((await scanner.runOnce()).credited).toEqual([]);
  });

  it('stops without recording or moving the checkpoint when a block is replaced while it reads', async () => {
    const { chain, checkpoints, deposits, scanner } = setup();
    await scanner.runOnce();
    chain.push('a', [{ hash: '0xok', to: USER, value: ETH }]);
    chain.push('a');
    chain.beforeRead = (n) => {
      if (n === 6) chain.fork(5, 'b', 7); // block 5 replaced after it was read
    };
    const r = await scanner.runOnce();
    expect(r).toMatchObject({ advanced: false, recorded: 0 });
    expect(checkpoints.cp?.lastScanned).toBe(4);
    expect(deposits.rows).toEqual([]);
  });

  it('stops when a token log comes from another version of its block', async () => {
    const { chain, checkpoints, deposits, scanner } = setup();
    await scanner.runOnce();
    chain.push('a');
    chain.logs.push({
      token: TOKEN,
      to: USER,
      value: 1_000_000n,
      txHash: '0xusdt',
      logIndex: 0,
      blockNumber: 5,
      blockHash: '0xother5',
    });
    expect(await scanner.runOnce()).toMatchObject({ advanced: false, recorded: 0 });
    expect(checkpoints.cp?.lastScanned).toBe(4);
    expect(deposits.rows).toEqual([]);
  });

  it('rolls back to the fork point: drops the pending deposits above it, keeps the credited one below', async () => {
    const { chain, checkpoints, deposits, scanner } = setup(2);
    await scanner.runOnce();
    chain.push('a', [{ hash: '0xold', to: USER, value: ETH }]); // 5
    chain.push('a'); // 6: credits block 5
    chain.push('a', [{ hash: '0xdropped', to: USER, value: ETH }]); // 7, pending
    await scanner.runOnce();
    expect(deposits.rows.map((r) => [r.txHash, r.status])).toEqual([
      ['0xold', 'credited'],
      ['0xdropped', 'pending'],
    ]);

    chain.fork(7, 'b', 10);
    const r = await scanner.runOnce();
    expect(r.reorg).toEqual({ forkBlock: 6, dropped: 1 });
    expect(checkpoints.cp?.lastScanned).toBe(6);
    expect(checkpoints.cp?.hashes.at(-1)).toEqual([6, '0xa6']);
    expect(deposits.rows.map((r) => r.txHash)).toEqual(['0xold']);
    // The new branch is scanned next.
    expect(await scanner.runOnce()).toMatchObject({ scanned: { from: 7, to: 9 }, advanced: true });
  });

  it('refuses to guess past the kept hashes: a deeper reorg needs an operator', async () => {
    const { chain, checkpoints, deposits, scanner } = setup(2, 3);
    await scanner.runOnce();
    for (let i = 0; i < 5; i++) chain.push('a', [{ hash: `0xd${i}`, to: USER, value: ETH }]);
    await scanner.runOnce();
    const pending = deposits.rows.filter((r) => r.status === 'pending').length;
    chain.fork(2, 'b', 12);
    await expect(scanner.runOnce()).rejects.toThrow('reorg deeper than the 3 block hashes kept');
    expect(checkpoints.cp?.lastScanned).toBe(9);
    expect(deposits.rows.filter((r) => r.status === 'pending')).toHaveLength(pending);
  });
});
