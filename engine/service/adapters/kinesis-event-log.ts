import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { decodeRecord, encodeRecord, type EventRecord } from '@contracts/messages';
import type { EventLog, EventSink, LoggedRecord, PutOutcome, StreamPositions } from '../ports';

/** The Kinesis event stream, written by the engine (partition key = market) and read back on recovery. */
export class KinesisEventLog implements EventSink, EventLog {
  constructor(
    private readonly kinesis: KinesisClient,
    private readonly streamName: string,
  ) {}

  async put(records: EventRecord[]): Promise<PutOutcome[]> {
    const out = await this.kinesis.send(
      new PutRecordsCommand({
        StreamName: this.streamName,
        Records: records.map((r) => ({ PartitionKey: r.market, Data: encodeRecord(r) })),
      }),
    );
    return (out.Records ?? []).map((r) => ({
      ok: !r.ErrorCode && !!r.SequenceNumber,
      shardId: r.ShardId,
      sequenceNumber: r.SequenceNumber,
    }));
  }

  async *readAfter(positions: StreamPositions): AsyncIterable<LoggedRecord> {
    for (const shard of await this.listShards()) {
      const shardId = shard.ShardId as string;
      const after = positions[shardId];
      const iter = await this.kinesis.send(
        new GetShardIteratorCommand({
          StreamName: this.streamName,
          ShardId: shardId,
          ...(after
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }
            : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      );
      let iterator = iter.ShardIterator;
      while (iterator) {
        const page = await this.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        for (const r of page.Records ?? []) {
          yield {
            record: decodeRecord(r.Data as Uint8Array),
            shardId,
            sequenceNumber: r.SequenceNumber as string,
          };
        }
        // Caught up with the tip of this shard: recovery reads to the current end only.
        if ((page.Records ?? []).length === 0 && (page.MillisBehindLatest ?? 0) === 0) break;
        iterator = page.NextShardIterator;
      }
    }
  }

  private async listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let token: string | undefined;
    do {
      const out = await this.kinesis.send(
        new ListShardsCommand(token ? { NextToken: token } : { StreamName: this.streamName }),
      );
      shards.push(...(out.Shards ?? []));
      token = out.NextToken;
    } while (token);
    return shards;
  }
}
