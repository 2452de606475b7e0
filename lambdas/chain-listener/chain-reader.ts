// What the listener reads from the node, over JSON-RPC with ethers: block headers with their transactions,
// receipts' status, and ERC-20 Transfer logs. Everything comes back lower-cased and as bigint.
import { JsonRpcProvider, id as topicId } from 'ethers';

export const TRANSFER_TOPIC = topicId('Transfer(address,address,uint256)');

export interface ChainBlock {
  number: number;
  hash: string;
  parentHash: string;
  /** Transactions that move native coin to an address (contract creations and zero values left out). */
  transfers: Array<{ hash: string; to: string; value: bigint }>;
}

export interface TokenTransfer {
  token: string;
  to: string;
  value: bigint;
  txHash: string;
  logIndex: number;
  blockNumber: number;
  blockHash: string;
}

export interface ChainPort {
  head(): Promise<number>;
  /** The block's hash, or undefined past the head (a chain reverted below it). */
  blockHash(n: number): Promise<string | undefined>;
  block(n: number): Promise<ChainBlock | undefined>;
  succeeded(txHash: string): Promise<boolean>;
  tokenTransfers(tokens: string[], from: number, to: number): Promise<TokenTransfer[]>;
}

export class EthersChain implements ChainPort {
  private readonly provider: JsonRpcProvider;

  constructor(rpcUrl: string) {
    // No response cache: a reorg check must see the node's current answer.
    this.provider = new JsonRpcProvider(rpcUrl, undefined, { staticNetwork: true, cacheTimeout: -1 });
  }

  head(): Promise<number> {
    return this.provider.getBlockNumber();
  }

  async blockHash(n: number): Promise<string | undefined> {
    const b = await this.provider.getBlock(n);
    return b?.hash?.toLowerCase() ?? undefined;
  }

  async block(n: number): Promise<ChainBlock | undefined> {
    const b = await this.provider.getBlock(n, true);
    if (!b?.hash) return undefined;
    return {
      number: b.number,
      hash: b.hash.toLowerCase(),
      parentHash: b.parentHash.toLowerCase(),
      transfers: b.prefetchedTransactions
        .filter((t) => t.to !== null && t.value > 0n)
        .map((t) => ({ hash: t.hash.toLowerCase(), to: (t.to as string).toLowerCase(), value: t.value })),
    };
  }

  async succeeded(txHash: string): Promise<boolean> {
    return (await this.provider.getTransactionReceipt(txHash))?.status === 1;
  }

  async tokenTransfers(tokens: string[], from: number, to: number): Promise<TokenTransfer[]> {
    if (tokens.length === 0) return [];
    const logs = await this.provider.getLogs({
      address: tokens,
      topics: [TRANSFER_TOPIC],
      fromBlock: from,
      toBlock: to,
    });
    // A standard Transfer has from and to indexed (3 topics) and the value as its 32-byte data.
    return logs
      .filter((l) => !l.removed && l.topics.length === 3 && l.data.length === 66)
      .map((l) => ({
        token: l.address.toLowerCase(),
        to: `0x${l.topics[2].slice(26)}`.toLowerCase(),
        value: BigInt(l.data),
        txHash: l.transactionHash.toLowerCase(),
        logIndex: l.index,
        blockNumber: l.blockNumber,
        blockHash: l.blockHash.toLowerCase(),
      }));
  }

  destroy(): void {
    this.provider.destroy();
  }
}
