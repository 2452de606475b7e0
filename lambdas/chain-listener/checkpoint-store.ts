// The chain listener's progress in the checkpoints table (contracts/resources.ts TABLES.checkpoints): one item
// per network with the last scanned block and the hashes of the recent blocks (to detect a reorg), moved
// with a conditional write so two overlapping runs never both move it.
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface ChainCheckpoint {
  lastScanned: number;
  /** [block number, block hash] of the most recent scanned blocks, ascending. */
  hashes: Array<[number, string]>;
}

export interface CheckpointPort {
  load(network: string): Promise<ChainCheckpoint | undefined>;
  /** Moves the checkpoint from `expected` (its lastScanned) to `next`; false if another run moved it first. */
  save(network: string, expected: number | undefined, next: ChainCheckpoint, nowMs: number): Promise<boolean>;
}

export class CheckpointStore implements CheckpointPort {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async load(network: string): Promise<ChainCheckpoint | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: `chain#${network}` }, ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    return {
      lastScanned: Number(out.Item.lastScanned),
      hashes: ((out.Item.hashes ?? []) as Array<[number, string]>).map(([n, h]) => [Number(n), h]),
    };
  }

  async save(
    network: string,
    expected: number | undefined,
    next: ChainCheckpoint,
    nowMs: number,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: `chain#${network}`,
            lastScanned: next.lastScanned,
            hashes: next.hashes,
            updatedAt: nowMs,
          },
          ConditionExpression:
            expected === undefined ? 'attribute_not_exists(pk)' : 'lastScanned = :expected',
          ExpressionAttributeValues: expected === undefined ? undefined : { ':expected': expected },
        }),
      );
      return true;
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }
}
