// Sends outbox messages to the engine shard's SQS FIFO queue: group = market + user bucket, deduplication
// id = command id, up to 10 per SendMessageBatch. Messages of one group are sent in order, batch after batch.
// With `coalesce` (the API's send after commit), single messages sent by concurrent requests within one turn
// of the event loop share one SendMessageBatch per queue and 10 messages: under load an order costs a tenth
// of an SQS request instead of one, and each request still learns whether its own message was accepted.
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { ORDER_QUEUE } from '@contracts/resources';
import { requiredEnv } from '../clients';
import type { OutboxMessage } from '../ledger/order-repository';
import type { CommandSender } from './relay';

// Not z.url(): fauxqs issues virtual-host queue URLs that WHATWG URL parsing refuses (../clients.ts).
const queueUrlsSchema = z.record(z.string(), z.string().min(1));
let queueUrls: { source: string | undefined; bySymbol: Record<string, string> } | undefined;

/** Queue per market: ORDER_QUEUE_URLS (JSON symbol → URL) when shards differ, else ORDER_QUEUE_URL. */
export function queueUrlFor(symbol: string): string {
  // Parsed (and checked) once, not per message; parsed again only if the variable changes (tests set it).
  const source = process.env.ORDER_QUEUE_URLS;
  let urls = queueUrls;
  if (!urls || urls.source !== source) {
    urls = { source, bySymbol: source ? queueUrlsSchema.parse(JSON.parse(source)) : {} };
    queueUrls = urls;
  }
  return urls.bySymbol[symbol] ?? requiredEnv(ORDER_QUEUE.envVar);
}

interface PendingSend {
  message: OutboxMessage;
  resolve(): void;
  reject(err: unknown): void;
}

export class SqsCommandSender implements CommandSender {
  private pending: PendingSend[] = [];

  constructor(
    private readonly sqs: SQSClient,
    private readonly urlFor: (market: string) => string = queueUrlFor,
    private readonly opts: { coalesce?: boolean } = {},
  ) {}

  async send(messages: OutboxMessage[]): Promise<void> {
    // Several messages of one caller keep their order through the sequential path below.
    if (messages.length === 1 && this.opts.coalesce) return this.enqueue(messages[0]);
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

  private enqueue(message: OutboxMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) setImmediate(() => void this.flush());
      this.pending.push({ message, resolve, reject });
    });
  }

  /** Everything enqueued during the last turn: one request per queue and 10 messages, all at once. */
  private async flush(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    const chunks: PendingSend[][] = [];
    const open = new Map<string, PendingSend[]>();
    for (const p of pending) {
      const url = this.urlFor(p.message.market);
      let chunk = open.get(url);
      if (!chunk || chunk.length === 10) {
        chunk = [];
        open.set(url, chunk);
        chunks.push(chunk);
      }
      chunk.push(p);
    }
    await Promise.all(
      chunks.map(async (chunk) => {
        const url = this.urlFor(chunk[0].message.market);
        try {
          if (chunk.length === 1) {
            const m = chunk[0].message;
            await this.sqs.send(
              new SendMessageCommand({
                QueueUrl: url,
                MessageBody: m.body,
                MessageGroupId: m.groupId,
                MessageDeduplicationId: m.cmdId,
              }),
            );
            chunk[0].resolve();
            return;
          }
          const out = await this.sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: url,
              Entries: chunk.map(({ message: m }, n) => ({
                Id: String(n),
                MessageBody: m.body,
                MessageGroupId: m.groupId,
                MessageDeduplicationId: m.cmdId,
              })),
            }),
          );
          const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
          chunk.forEach((p, n) => {
            const f = failed.get(String(n));
            if (f)
              p.reject(new Error(`SQS refused command ${p.message.cmdId}: ${f.Code} ${f.Message ?? ''}`));
            else p.resolve();
          });
        } catch (err) {
          // Failed or ambiguous: every caller of the request hears it (the outbox relay delivers them).
          for (const p of chunk) p.reject(err);
        }
      }),
    );
  }
}
