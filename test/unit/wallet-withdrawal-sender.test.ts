// The withdrawal run's decisions (lambdas/wallet/withdrawal-sender.ts) against a fake node and an in-memory
// store: sign pending withdrawals with the next nonce; rebroadcast a young transaction; replace one that waited
// too long (same nonce, recipient, value, data, gas limit; higher fees; stored before broadcast); finalise
// whichever attempt mined, once; respect the fee ceiling and the nonce sequence.
import { Transaction, Wallet } from 'ethers';
import type { SignedTransaction, WithdrawalAttempt, WithdrawalRow } from '@lambdas/shared/ledger/withdrawals';
import type { ChainCoin } from '@lambdas/wallet/chain-assets';
import { WithdrawalSender, type WalletChain, type WithdrawalStore } from '@lambdas/wallet/withdrawal-sender';

const GWEI = 1_000_000_000n;
const TOKEN = '0x00000000000000000000000000000000000000aa';
const COINS: ChainCoin[] = [
  { coin: 'ETH', network: 'ETH', decimals: 18 },
  { coin: 'USDT', network: 'ETH', token: TOKEN, decimals: 6 },
];

/** The ledger's side of the run, in memory, with the repository's guards. */
class FakeStore implements WithdrawalStore {
  rows = new Map<number, WithdrawalRow>();
  attemptList = new Map<number, WithdrawalAttempt[]>();
  finalised: Array<{ id: number; status: 'confirmed' | 'failed'; txHash: string }> = [];
  /** Set to make the next replace() lose to another writer. */
  loseNextReplace = false;

  add(id: number, coin: string, chainAmount: bigint): void {
    this.rows.set(id, {
      id,
      userId: 1,
      coin,
      network: 'ETH',
      address: Wallet.createRandom().address,
      amount: 1n,
      fee: 0n,
      chainAmount,
      status: 'pending',
      nonce: null,
      txHash: null,
      rawTx: null,
      applyMs: 0,
      completeMs: null,
    });
  }

  open = async (network: string) =>
    [...this.rows.values()].filter(
      (w) => w.network === network && (w.status === 'pending' || w.status === 'broadcast'),
    );

  nextNonce = async () => {
    const nonces = [...this.rows.values()].flatMap((w) => (w.nonce === null ? [] : [w.nonce]));
    return nonces.length ? Math.max(...nonces) + 1 : 0;
  };

  attempts = async (ids: number[]) => new Map(ids.map((id) => [id, [...(this.attemptList.get(id) ?? [])]]));

  private record(id: number, tx: SignedTransaction): void {
    const list = this.attemptList.get(id) ?? [];
    list.push({ withdrawalId: id, attempt: list.length, txHash: tx.hash, rawTx: tx.raw, ...tx });
    this.attemptList.set(id, list);
  }

  markSigned = async (id: number, tx: SignedTransaction & { nonce: number }) => {
    const w = this.rows.get(id)!;
    if (w.status !== 'pending') return false;
    Object.assign(w, { status: 'broadcast', nonce: tx.nonce, txHash: tx.hash, rawTx: tx.raw });
    this.record(id, tx);
    return true;
  };

  replace = async (id: number, previousHash: string, tx: SignedTransaction) => {
    const w = this.rows.get(id)!;
    if (this.loseNextReplace) {
      this.loseNextReplace = false;
      return false;
    }
    if (w.status !== 'broadcast' || w.txHash !== previousHash) return false;
    Object.assign(w, { txHash: tx.hash, rawTx: tx.raw });
    this.record(id, tx);
    return true;
  };

  private finish(id: number, txHash: string, status: 'confirmed' | 'failed') {
    const w = this.rows.get(id)!;
    const a = this.attemptList.get(id)?.find((x) => x.txHash === txHash);
    if (w.status !== 'broadcast' || !a) return false;
    Object.assign(w, { status, txHash: a.txHash, rawTx: a.rawTx });
    this.finalised.push({ id, status, txHash });
    return true;
  }

  confirm = async (id: number, txHash: string) => this.finish(id, txHash, 'confirmed');
  fail = async (id: number, txHash: string) => this.finish(id, txHash, 'failed');
}

/** A node: a pool of one transaction per nonce (a replacement needs both fees 10 % higher), mined on demand. */
class FakeChain implements WalletChain {
  head = 100;
  fees = { maxFeePerGas: 3n * GWEI, maxPriorityFeePerGas: GWEI };
  pendingCount = 0;
  pool = new Map<number, Transaction>();
  receipts = new Map<string, { blockNumber: number; status: number }>();
  broadcasts: string[] = [];
  /** Called on every broadcast before it is accepted (to check what the store holds at that moment). */
  onBroadcast: (tx: Transaction) => void = () => undefined;

  getBlockNumber = async () => this.head;
  getTransactionReceipt = async (hash: string) => this.receipts.get(hash) ?? null;
  getTransactionCount = async () => this.pendingCount;
  getNetwork = async () => ({ chainId: 31337n });
  getFeeData = async () => ({ ...this.fees });

  broadcastTransaction = async (raw: string) => {
    const tx = Transaction.from(raw);
    this.onBroadcast(tx);
    this.broadcasts.push(tx.hash!);
    const held = this.pool.get(tx.nonce);
    if (held?.hash === tx.hash) throw new Error('already known');
    if (
      held &&
      (tx.maxFeePerGas! * 10n < held.maxFeePerGas! * 11n ||
        tx.maxPriorityFeePerGas! * 10n < held.maxPriorityFeePerGas! * 11n)
    )
      throw new Error('replacement transaction underpriced');
    this.pool.set(tx.nonce, tx);
  };

  /** Mines the transaction `hash` (from the pool or not: the original may mine after its replacement). */
  mine(hash: string, status = 1): void {
    this.head++;
    this.receipts.set(hash, { blockNumber: this.head, status });
  }
}

const hotWallet = Wallet.createRandom();
let clock: number;
let store: FakeStore;
let chain: FakeChain;

function sender(over: { replaceAfterMs?: number; maxFeePerGas?: bigint; confirmations?: number } = {}) {
  return new WithdrawalSender({
    repo: store,
    provider: chain,
    signer: { address: async () => hotWallet.address, sign: async (d) => hotWallet.signingKey.sign(d) },
    network: 'ETH',
    coins: COINS,
    confirmations: over.confirmations ?? 1,
    replacement: { replaceAfterMs: over.replaceAfterMs ?? 180_000, maxFeePerGas: over.maxFeePerGas },
    now: () => clock,
  });
}

const attemptsOf = (id: number) => store.attemptList.get(id) ?? [];
const txOf = (a: WithdrawalAttempt) => Transaction.from(a.rawTx);

beforeEach(() => {
  clock = 1_000_000;
  store = new FakeStore();
  chain = new FakeChain();
});

describe('a pending withdrawal', () => {
  it('is signed with the next nonce, stored as attempt 0 with its fees, then broadcast', async () => {
    store.add(1, 'ETH', 5n);
    store.add(2, 'USDT', 7n);
    chain.pendingCount = 4;
    chain.onBroadcast = (tx) =>
      expect(store.attemptList.get(tx.nonce === 4 ? 1 : 2)?.[0].txHash).toBe(tx.hash);
    const r = await sender().runOnce();
    expect(r.sent.map((w) => [w.id, w.nonce])).toEqual([
      [1, 4],
      [2, 5],
    ]);
    const [a] = attemptsOf(1);
    expect(a).toMatchObject({
      attempt: 0,
      maxFeePerGas: 3n * GWEI,
      maxPriorityFeePerGas: GWEI,
      signedMs: clock,
    });
    expect(txOf(a).from).toBe(hotWallet.address);
    expect(chain.broadcasts).toEqual([a.txHash, attemptsOf(2)[0].txHash]);
  });
});

describe('a broadcast withdrawal with no receipt', () => {
  beforeEach(async () => {
    store.add(1, 'USDT', 7n);
    await sender().runOnce();
    chain.broadcasts = [];
  });

  it('is rebroadcast unchanged while it is younger than the replacement time', async () => {
    clock += 179_999;
    const r = await sender().runOnce();
    expect(r.replaced).toEqual([]);
    expect(attemptsOf(1)).toHaveLength(1);
    expect(chain.broadcasts).toEqual([attemptsOf(1)[0].txHash]);
  });

  it('is replaced after it: same nonce, recipient, value, data and gas limit, fees bumped, stored first', async () => {
    clock += 180_000;
    chain.fees = { maxFeePerGas: 2n * GWEI, maxPriorityFeePerGas: GWEI }; // the node suggests less: the bump wins
    chain.onBroadcast = (tx) => expect(store.rows.get(1)!.txHash).toBe(tx.hash);
    const r = await sender().runOnce();
    const [first, second] = attemptsOf(1).map(txOf);
    expect(r.replaced).toEqual([
      {
        id: 1,
        nonce: first.nonce,
        txHash: second.hash,
        maxFeePerGas: 3_375_000_000n,
        maxPriorityFeePerGas: 1_125_000_000n,
        capped: false,
      },
    ]);
    for (const field of ['nonce', 'to', 'value', 'data', 'gasLimit', 'chainId', 'type', 'from'] as const)
      expect(second[field]).toEqual(first[field]);
    expect(attemptsOf(1)[1]).toMatchObject({ attempt: 1, signedMs: clock });
    expect(chain.pool.get(first.nonce)?.hash).toBe(second.hash); // the node took it as a replacement
    expect(chain.broadcasts).toEqual([second.hash]);
  });

  it('takes the node’s current fees when they are above the bump (a fee spike)', async () => {
    clock += 180_000;
    chain.fees = { maxFeePerGas: 50n * GWEI, maxPriorityFeePerGas: 2n * GWEI };
    const r = await sender().runOnce();
    expect(r.replaced[0]).toMatchObject({ maxFeePerGas: 50n * GWEI, maxPriorityFeePerGas: 2n * GWEI });
  });

  it('is replaced again, from the latest attempt, after another wait', async () => {
    clock += 180_000;
    await sender().runOnce();
    clock += 60_000;
    expect((await sender().runOnce()).replaced).toEqual([]);
    clock += 120_000;
    const r = await sender().runOnce();
    expect(r.replaced[0]).toMatchObject({
      maxFeePerGas: 3_796_875_000n,
      maxPriorityFeePerGas: 1_265_625_000n,
    });
    expect(attemptsOf(1).map((a) => a.attempt)).toEqual([0, 1, 2]);
    expect(new Set(attemptsOf(1).map((a) => txOf(a).nonce)).size).toBe(1);
  });

  it('is held at the ceiling (capped), then no longer replaced but rebroadcast', async () => {
    clock += 180_000;
    chain.fees = { maxFeePerGas: 50n * GWEI, maxPriorityFeePerGas: GWEI };
    const policy = { maxFeePerGas: 4n * GWEI };
    expect((await sender(policy).runOnce()).replaced[0]).toMatchObject({
      maxFeePerGas: 4n * GWEI,
      capped: true,
    });
    clock += 180_000;
    chain.broadcasts = [];
    const r = await sender(policy).runOnce();
    expect(r.replaced).toEqual([]);
    expect(r.atFeeCeiling).toEqual([1]);
    expect(attemptsOf(1)).toHaveLength(2);
    expect(chain.broadcasts).toEqual([attemptsOf(1)[1].txHash]);
  });

  it('is not broadcast when another writer replaced it first', async () => {
    clock += 180_000;
    store.loseNextReplace = true;
    const r = await sender().runOnce();
    expect(r.replaced).toEqual([]);
    expect(attemptsOf(1)).toHaveLength(1);
    expect(chain.broadcasts).toEqual([]);
  });
});

describe('after a replacement', () => {
  let original: string;
  let replacement: string;
  beforeEach(async () => {
    store.add(1, 'ETH', 5n);
    await sender().runOnce();
    clock += 180_000;
    await sender().runOnce();
    [original, replacement] = attemptsOf(1).map((a) => a.txHash);
  });

  it('the original mining confirms the withdrawal once, with the original’s hash', async () => {
    chain.mine(original);
    const r = await sender().runOnce();
    expect(r.confirmed).toEqual([1]);
    expect((await sender().runOnce()).confirmed).toEqual([]);
    expect(store.finalised).toEqual([{ id: 1, status: 'confirmed', txHash: original }]);
    expect(store.rows.get(1)!.txHash).toBe(original);
  });

  it('the replacement mining confirms it with the replacement’s hash', async () => {
    chain.mine(replacement);
    expect((await sender().runOnce()).confirmed).toEqual([1]);
    expect(store.finalised).toEqual([{ id: 1, status: 'confirmed', txHash: replacement }]);
  });

  it('a reverted replacement fails it, once', async () => {
    chain.mine(replacement, 0);
    expect((await sender().runOnce()).failed).toEqual([1]);
    expect((await sender().runOnce()).failed).toEqual([]);
    expect(store.finalised).toEqual([{ id: 1, status: 'failed', txHash: replacement }]);
  });

  it('a mined attempt short of its confirmations is waited for, not replaced', async () => {
    chain.mine(original);
    clock += 10 * 180_000;
    chain.broadcasts = [];
    const r = await sender({ confirmations: 3 }).runOnce();
    expect(r).toMatchObject({ confirmed: [], replaced: [] });
    expect(attemptsOf(1)).toHaveLength(2);
    expect(chain.broadcasts).toEqual([]);
    chain.head += 2; // the mined block and two more: 3 confirmations
    expect((await sender({ confirmations: 3 }).runOnce()).confirmed).toEqual([1]);
  });

  it('the next withdrawal takes the next nonce: the replacement reused its own', async () => {
    store.add(2, 'ETH', 9n);
    const r = await sender().runOnce();
    expect(r.sent.map((w) => w.nonce)).toEqual([txOf(attemptsOf(1)[0]).nonce + 1]);
  });
});
