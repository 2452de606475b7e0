// Sends outbox messages to the engine shard's SQS FIFO queue: group = market + user bucket, deduplication
// id = command id, up to 10 per SendMessageBatch. Messages of one group are sent in order, batch after batch.
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ORDER_QUEUE } from '../../../lib/resources';
import { requiredEnv } from '../clients';
import type { OutboxMessage } from '../ledger/order-repository';
import type { CommandSender } from './relay';

/** Queue per market: ORDER_QUEUE_URLS (JSON symbol → URL) when shards differ, else ORDER_QUEUE_URL. */
export function queueUrlFor(symbol: string): string {
  const map = process.env.ORDER_QUEUE_URLS
    ? (JSON.parse(process.env.ORDER_QUEUE_URLS) as Record<string, string>)
    : {};
  return map[symbol] ?? requiredEnv(ORDER_QUEUE.envVar);
}

export class SqsCommandSender implements CommandSender {
  constructor(
    private readonly sqs: SQSClient,
    private readonly urlFor: (market: string) => string = queueUrlFor,
  ) {}

  async send(messages: OutboxMessage[]): Promise<void> {
    if (messages.length === 1) {
      const m = messages[0];
      await this.sqs.send(
        new SendMessageCommand({
          QueueUrl: this.urlFor(m.market),
          MessageBody: m.body,
          MessageGroupId: m.groupId,
          MessageDeduplicationId: m.cmdId,
        }),
      );
      return;
    }
    // Consecutive runs of one queue, 10 at a time, in order.
    for (let i = 0; i < messages.length;) {
      const url = this.urlFor(messages[i].market);
      const chunk: OutboxMessage[] = [];
      while (i < messages.length && chunk.length < 10 && this.urlFor(messages[i].market) === url)
        chunk.push(messages[i++]);
      const out = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: chunk.map((m, n) => ({
            Id: String(n),
            MessageBody: m.body,
            MessageGroupId: m.groupId,
            MessageDeduplicationId: m.cmdId,
          })),
        }),
      );
      if (out.Failed && out.Failed.length > 0)
        throw new Error(
          `SQS refused ${out.Failed.length} of ${chunk.length} commands: ${out.Failed[0].Message}`,
        );
    }
  }
}
