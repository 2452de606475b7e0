// Deposits in the ledger database (migration 6, docs/wallets.md): users' deposit addresses, deposits seen
// on chain (pending while their block may still be dropped) and their credit, once per (network, tx hash,
// log index), through ledger_post in the same transaction that marks the deposit credited.
import type { Pool, PoolClient } from 'pg';
import { depositPostings } from './postings';
import { inTransaction } from './transaction';

export interface DepositAddress {
  address: string;
  derivationIndex: bigint;
}

/** A transfer to a deposit address, as the chain listener found it. */
export interface ObservedDeposit {
  network: string;
  txHash: string;
  /** The ERC-20 Transfer log's index in its block; -1 for a native (ETH) transfer. */
  logIndex: number;
  address: string;
  coin: string;
  /** On-chain base units (wei, token units). */
  chainAmount: bigint;
  /** Ledger minor units (what is credited). */
  amount: bigint;
  blockNumber: number;
  blockHash: string;
}

export interface DepositRow {
  id: number;
  network: string;
  txHash: string;
  logIndex: number;
  coin: string;
  address: string;
  amount: bigint;
  blockNumber: number;
  confirmations: number;
  requiredConfirmations: number;
  status: 'pending' | 'credited';
  insertMs: number;
  creditedMs: number | null;
}

export interface DepositQuery {
  coin?: string;
  status?: 'pending' | 'credited';
  startTime?: number;
  endTime?: number;
  txId?: string;
  offset: number;
  limit: number;
}

/** The ledger's reference of a deposit's credit: unique per kind, so a second credit posts nothing. */
export const depositReference = (d: { network: string; txHash: string; logIndex: number }): string =>
  `chain:${d.network}:${d.txHash}:${d.logIndex}`;

interface RawDeposit {
  id: string;
  network: string;
  tx_hash: string;
  log_index: number;
  coin: string;
  address: string;
  amount: string;
  block_number: string;
  confirmations: number;
  required_confirmations: number;
  status: 'pending' | 'credited';
  insert_ms: string;
  credited_ms: string | null;
}

const toRow = (r: RawDeposit): DepositRow => ({
  id: Number(r.id),
  network: r.network,
  txHash: r.tx_hash,
  logIndex: r.log_index,
  coin: r.coin,
  address: r.address,
  amount: BigInt(r.amount),
  blockNumber: Number(r.block_number),
  confirmations: r.confirmations,
  requiredConfirmations: r.required_confirmations,
  status: r.status,
  insertMs: Number(r.insert_ms),
  creditedMs: r.credited_ms === null ? null : Number(r.credited_ms),
});

export class DepositRepository {
  constructor(private readonly pool: Pool) {}

  /**
   * The user's address on `network`, created on first request: `derive` turns a fresh index into an address.
   * Two concurrent first requests both derive, one insert wins and both answer its address.
   */
  async addressFor(
    userId: number,
    network: string,
    derive: (index: bigint) => string,
  ): Promise<DepositAddress> {
    const existing = await this.findAddress(userId, network);
    if (existing) return existing;
    const next = await this.pool.query<{ n: string }>("SELECT nextval('deposit_address_index') AS n");
    const index = BigInt(next.rows[0].n);
    await this.pool.query(
      `INSERT INTO deposit_addresses (user_id, network, derivation_index, address) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, network) DO NOTHING`,
      [userId, network, index.toString(), derive(index)],
    );
    const made = await this.findAddress(userId, network);
    if (!made) throw new Error('deposit address vanished after insert');
    return made;
  }

  private async findAddress(userId: number, network: string): Promise<DepositAddress | undefined> {
    const r = await this.pool.query<{ address: string; derivation_index: string }>(
      'SELECT address, derivation_index FROM deposit_addresses WHERE user_id = $1 AND network = $2',
      [userId, network],
    );
    const row = r.rows[0];
    return row ? { address: row.address, derivationIndex: BigInt(row.derivation_index) } : undefined;
  }

  /** Which of `addresses` (lower-case) are deposit addresses on `network`, and whose. */
  async owners(network: string, addresses: string[]): Promise<Map<string, number>> {
    if (addresses.length === 0) return new Map();
    const r = await this.pool.query<{ address: string; user_id: string }>(
      'SELECT address, user_id FROM deposit_addresses WHERE network = $1 AND address = ANY($2::text[])',
      [network, addresses],
    );
    return new Map(r.rows.map((row) => [row.address, Number(row.user_id)]));
  }

  /** Records deposits as pending; one already recorded (a rescan) is left as it is. */
  async record(
    deposits: ObservedDeposit[],
    owners: Map<string, number>,
    at: { requiredConfirmations: number; nowMs: number },
  ): Promise<number> {
    let added = 0;
    for (const d of deposits) {
      const userId = owners.get(d.address);
      if (userId === undefined) throw new Error(`no owner for deposit address ${d.address}`);
      const r = await this.pool.query(
        `INSERT INTO deposits (network, tx_hash, log_index, user_id, coin, address, chain_amount, amount,
                               block_number, block_hash, required_confirmations, insert_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (network, tx_hash, log_index) DO NOTHING`,
        [
          d.network,
          d.txHash,
          d.logIndex,
          userId,
          d.coin,
          d.address,
          d.chainAmount.toString(),
          d.amount.toString(),
          d.blockNumber,
          d.blockHash,
          at.requiredConfirmations,
          at.nowMs,
        ],
      );
      added += r.rowCount ?? 0;
    }
    return added;
  }

  /** Pending deposits' confirmations as of the chain's `head` (what the deposit history shows). */
  async updateConfirmations(network: string, head: number): Promise<void> {
    await this.pool.query(
      `UPDATE deposits SET confirmations = least(required_confirmations, greatest(0, $2 - block_number + 1))
        WHERE network = $1 AND status = 'pending'`,
      [network, head],
    );
  }

  /** A reorg dropped the blocks from `fromBlock` on: their pending deposits go (credited ones cannot be here). */
  async dropPendingFrom(network: string, fromBlock: number): Promise<number> {
    const r = await this.pool.query(
      "DELETE FROM deposits WHERE network = $1 AND block_number >= $2 AND status = 'pending'",
      [network, fromBlock],
    );
    return r.rowCount ?? 0;
  }

  /**
   * Credits every pending deposit in a block at or below `confirmedBlock`, each in its own transaction that
   * marks it credited and posts it (the status change and the unique ledger reference both make it once).
   */
  async creditConfirmed(network: string, confirmedBlock: number, nowMs: number): Promise<DepositRow[]> {
    const due = await this.pool.query<{ id: string }>(
      "SELECT id FROM deposits WHERE network = $1 AND status = 'pending' AND block_number <= $2 ORDER BY id",
      [network, confirmedBlock],
    );
    const credited: DepositRow[] = [];
    for (const { id } of due.rows) {
      const row = await inTransaction(this.pool, (c) => this.creditOne(c, Number(id), nowMs));
      if (row) credited.push(row);
    }
    return credited;
  }

  private async creditOne(c: PoolClient, id: number, nowMs: number): Promise<DepositRow | undefined> {
    const r = await c.query<RawDeposit & { user_id: string }>(
      `UPDATE deposits SET status = 'credited', credited_ms = $2, confirmations = required_confirmations
        WHERE id = $1 AND status = 'pending'
       RETURNING *`,
      [id, nowMs],
    );
    const raw = r.rows[0];
    if (!raw) return undefined;
    const row = toRow(raw);
    const postings = depositPostings(Number(raw.user_id), row.coin, row.amount).map((p) => ({
      ...p,
      amount: p.amount.toString(),
    }));
    await c.query('SELECT ledger_post($1, $2, $3)', [
      'deposit',
      depositReference(row),
      JSON.stringify(postings),
    ]);
    return row;
  }

  /** The user's deposits, newest first (Binance's deposit history). */
  async list(userId: number, q: DepositQuery): Promise<DepositRow[]> {
    const r = await this.pool.query<RawDeposit>(
      `SELECT * FROM deposits
        WHERE user_id = $1
          AND ($2::text IS NULL OR coin = $2)
          AND ($3::text IS NULL OR status = $3)
          AND ($4::bigint IS NULL OR insert_ms >= $4)
          AND ($5::bigint IS NULL OR insert_ms <= $5)
          AND ($6::text IS NULL OR tx_hash = $6)
        ORDER BY insert_ms DESC, id DESC
        OFFSET $7 LIMIT $8`,
      [
        userId,
        q.coin ?? null,
        q.status ?? null,
        q.startTime ?? null,
        q.endTime ?? null,
        q.txId?.toLowerCase() ?? null,
        q.offset,
        q.limit,
      ],
    );
    return r.rows.map(toRow);
  }

  /** The deposits these ledger references credited (`depositReference`); others are ignored. */
  async byReferences(references: string[]): Promise<Array<DepositRow & { userId: number }>> {
    const keys = references
      .map((r) => /^chain:([^:]+):(0x[0-9a-f]+):(-?\d+)$/.exec(r))
      .filter((m): m is RegExpExecArray => m !== null);
    if (keys.length === 0) return [];
    const r = await this.pool.query<RawDeposit & { user_id: string }>(
      `SELECT d.* FROM deposits d
         JOIN unnest($1::text[], $2::text[], $3::int[]) AS k(network, tx_hash, log_index)
           ON d.network = k.network AND d.tx_hash = k.tx_hash AND d.log_index = k.log_index`,
      [keys.map((m) => m[1]), keys.map((m) => m[2]), keys.map((m) => Number(m[3]))],
    );
    return r.rows.map((raw) => ({ ...toRow(raw), userId: Number(raw.user_id) }));
  }
}
