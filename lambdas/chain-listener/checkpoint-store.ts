// The chain listener's progress in the checkpoints table (lib/resources.ts TABLES.checkpoints): one item
// per network, advanced with a conditional write so two overlapping runs never both move it.
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export class CheckpointStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async lastScanned(network: string): Promise<number | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: `chain#${network}` }, ConsistentRead: true }),
    );
    return out.Item ? Number(out.Item.lastScanned) : undefined;
  }

  /** Moves the checkpoint from `expected` to `next`; false if another run moved it first. */
  async advance(
    network: string,
    expected: number | undefined,
    next: number,
    nowMs: number,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `chain#${network}`, lastScanned: next, updatedAt: nowMs },
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
