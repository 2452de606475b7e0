// Loaded into the engine's process by the pipeline bench (ENGINE_NODE_ARGS=--import <this file>): counts the
// engine's own SQS and Kinesis requests (receives, deletes, puts) and the messages and records they carry,
// into BENCH_ENGINE_COUNTS_FILE every 100 ms for the bench to add (request-counter.ts).
import { writeFileSync } from 'node:fs';
import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

const counts: Record<string, number> = {};
const add = (name: string, n = 1) => (counts[name] = (counts[name] ?? 0) + n);

function countSends(
  proto: { send: (...a: unknown[]) => Promise<unknown> },
  service: string,
  items: (command: unknown, out: unknown) => [string, number] | undefined,
): void {
  const send = proto.send;
  proto.send = async function (this: unknown, command: unknown, ...rest: unknown[]) {
    add(`engine.${service}.${(command as object).constructor.name.replace(/Command$/, '')}`);
    const out = await send.call(this, command, ...rest);
    const counted = items(command, out);
    if (counted) add(...counted);
    return out;
  };
}

const file = process.env.BENCH_ENGINE_COUNTS_FILE;
if (file) {
  countSends(SQSClient.prototype as never, 'sqs', (command, out) =>
    command instanceof ReceiveMessageCommand
      ? ['engine.sqs.messagesReceived', (out as { Messages?: unknown[] }).Messages?.length ?? 0]
      : undefined,
  );
  countSends(KinesisClient.prototype as never, 'kinesis', (command) =>
    command instanceof PutRecordsCommand
      ? ['engine.kinesis.recordsPut', command.input.Records?.length ?? 0]
      : undefined,
  );
  setInterval(() => writeFileSync(file, JSON.stringify({ counts, timings: {} })), 100).unref();
}
