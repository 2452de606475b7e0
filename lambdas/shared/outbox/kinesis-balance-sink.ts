// The wallet-event stream as the balance-event relay's sink: one record per event, partition key = user, so
// one user's events stay on one shard in order.
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { balanceEventPartitionKey, encodeBalanceEvent, type BalanceEvent } from '@contracts/wallet-events';
import type { BalanceEventSink } from './balance-events';

export class KinesisBalanceSink implements BalanceEventSink {
  constructor(
    private readonly kinesis: KinesisClient,
    private readonly streamName: string,
  ) {}

  async put(events: BalanceEvent[]): Promise<number[]> {
    const out = await this.kinesis.send(
      new PutRecordsCommand({
        StreamName: this.streamName,
        Records: events.map((e) => ({
          PartitionKey: balanceEventPartitionKey(e.userId),
          Data: encodeBalanceEvent(e),
        })),
      }),
    );
    const results = out.Records ?? [];
    return events
      .filter((_, i) => results[i] && !results[i].ErrorCode && results[i].SequenceNumber)
      .map((e) => e.id);
  }
}
