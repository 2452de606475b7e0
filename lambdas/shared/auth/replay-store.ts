// Remembers signatures already accepted, so a captured signed request cannot be replayed within its
// recvWindow. DynamoDB conditional put on the idempotency table; items expire through TTL.
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface ReplayStore {
  /** true the first time a signature is seen, false afterwards. */
  firstUse(signature: string, expiresAtMs: number): Promise<boolean>;
}

export class DynamoReplayStore implements ReplayStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async firstUse(signature: string, expiresAtMs: number): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { id: `replay#${signature}`, expiration: Math.ceil(expiresAtMs / 1000) },
          ConditionExpression: 'attribute_not_exists(id)',
        }),
      );
      return true;
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }
}
