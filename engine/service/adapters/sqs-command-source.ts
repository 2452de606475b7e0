import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { CommandSource, ReceivedMessage } from '../ports';

/** The shard's SQS FIFO order queue as a command source. */
export class SqsCommandSource implements CommandSource {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly visibilityTimeoutSeconds: number,
  ) {}

  async receive(max: number, waitSeconds: number, signal?: AbortSignal): Promise<ReceivedMessage[]> {
    const out = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
        VisibilityTimeout: this.visibilityTimeoutSeconds,
      }),
      { abortSignal: signal },
    );
    return (out.Messages ?? []).map((m) => ({
      messageId: m.MessageId ?? '',
      receiptHandle: m.ReceiptHandle ?? '',
      body: m.Body ?? '',
    }));
  }

  async delete(receiptHandles: string[]): Promise<void> {
    for (const chunk of chunks(receiptHandles, 10)) {
      const out = await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: chunk.map((handle, i) => ({ Id: String(i), ReceiptHandle: handle })),
        }),
      );
      if (out.Failed && out.Failed.length > 0) {
        throw new Error(
          `DeleteMessageBatch failed for ${out.Failed.length} messages: ${out.Failed[0].Message}`,
        );
      }
    }
  }

  async extendVisibility(receiptHandles: string[], seconds: number): Promise<void> {
    for (const chunk of chunks(receiptHandles, 10)) {
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: chunk.map((handle, i) => ({
            Id: String(i),
            ReceiptHandle: handle,
            VisibilityTimeout: seconds,
          })),
        }),
      );
    }
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
