// Counts what the order pipeline asks of each service, per accepted order: DynamoDB requests and items
// written (SDK middleware on the shared client), SQS sends, Kinesis records read by the consumers, and
// PostgreSQL transactions (an explicit BEGIN, or a statement outside one). It runs in the exchange's process
// (API handlers, outbox relay) and, loaded with `--import` through CONSUMERS_NODE_ARGS, in the stream
// consumers' process, which writes its counts to BENCH_COUNTS_FILE every 100 ms for the bench to add.
// The engine's own SQS and Kinesis requests are counted in its process by count-in-engine.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { GetRecordsCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { Client } from 'pg';
import { dynamoClient, sqsClient } from '@lambdas/shared/clients';
import { OrderRepository } from '@lambdas/shared/ledger/order-repository';
import { LedgerRepository } from '@lambdas/shared/ledger/repository';
import { SqsCommandSender } from '@lambdas/shared/outbox/sqs-sender';
import { MarketDataStore } from '@lambdas/shared/stores/market-data';
import { OrderStore } from '@lambdas/shared/stores/orders';
import { UserTradeStore } from '@lambdas/shared/stores/user-trades';

/** Time spent in each pipeline step (ms, summed) and how often it ran. */
const timings: Record<string, { ms: number; n: number }> = {};
function timed(proto: object, method: string, label: string): void {
  const target = proto as Record<string, (...a: unknown[]) => Promise<unknown>>;
  const original = target[method];
  target[method] = async function (this: unknown, ...args: unknown[]) {
    const start = performance.now();
    try {
      return await original.apply(this, args);
    } finally {
      const t = (timings[label] ??= { ms: 0, n: 0 });
      t.ms += performance.now() - start;
      t.n++;
    }
  };
}

const counts: Record<string, number> = {};
const add = (name: string, n = 1) => (counts[name] = (counts[name] ?? 0) + n);
let installed = false;
const excluded = new WeakSet<object>();

export function install(): void {
  if (installed) return;
  installed = true;
  timed(OrderRepository.prototype, 'accept', 'api.acceptTransaction');
  timed(SqsCommandSender.prototype, 'send', 'sqs.send');
  timed(LedgerRepository.prototype, 'settleRecords', 'processor.settleBatch');
  timed(OrderStore.prototype, 'putAll', 'processor.orderHistory');
  timed(UserTradeStore.prototype, 'putAll', 'processor.userTrades');
  timed(MarketDataStore.prototype, 'putTrades', 'processor.publicTrades');
  timed(MarketDataStore.prototype, 'mergeCandle', 'processor.candle');
  timed(MarketDataStore.prototype, 'putBook', 'processor.bookPut');
  dynamoClient().middlewareStack.add(
    (next, context) => async (args) => {
      add(`dynamodb.${context.commandName?.replace(/Command$/, '')}`);
      const input = args.input as { RequestItems?: Record<string, unknown[]>; TransactItems?: unknown[] };
      const items =
        context.commandName === 'BatchWriteItemCommand'
          ? Object.values(input.RequestItems ?? {}).reduce((n, l) => n + l.length, 0)
          : context.commandName === 'TransactWriteItemsCommand'
            ? (input.TransactItems?.length ?? 0)
            : /^(Put|Update|Delete)Item/.test(context.commandName ?? '')
              ? 1
              : 0;
      add('dynamodb.itemsWritten', items);
      return next(args);
    },
    { step: 'initialize', name: 'benchCounter' },
  );
  sqsClient().middlewareStack.add(
    (next, context) => async (args) => {
      add(`sqs.${context.commandName?.replace(/Command$/, '')}`);
      return next(args);
    },
    { step: 'initialize', name: 'benchCounter' },
  );
  const kinesisSend = KinesisClient.prototype.send;
  KinesisClient.prototype.send = async function (this: KinesisClient, command: unknown, ...rest: unknown[]) {
    const out = await (kinesisSend as (...a: unknown[]) => Promise<unknown>).call(this, command, ...rest);
    if (command instanceof GetRecordsCommand) {
      add('kinesis.GetRecords');
      add('kinesis.recordsRead', (out as { Records?: unknown[] }).Records?.length ?? 0);
    }
    return out;
  } as typeof kinesisSend;
  const query = Client.prototype.query;
  const inTx = new WeakSet<object>();
  Client.prototype.query = function (this: Client, ...args: unknown[]) {
    if (excluded.has(this)) return (query as (...a: unknown[]) => unknown).apply(this, args);
    const first = args[0] as string | { text?: string };
    const text = (typeof first === 'string' ? first : (first?.text ?? '')).trim().toUpperCase();
    if (text.startsWith('BEGIN')) {
      inTx.add(this);
      add('postgres.transactions');
    } else if (text.startsWith('COMMIT') || text.startsWith('ROLLBACK')) inTx.delete(this);
    else if (!inTx.has(this)) add('postgres.transactions');
    if (text.startsWith('SELECT * FROM ACCEPT_ORDER')) add('postgres.acceptTransactions');
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
}

interface Counts {
  counts: Record<string, number>;
  timings: Record<string, { ms: number; n: number }>;
}

/** This process's counts plus the latest of the consumers' and the engine's processes, if they write any. */
function allCounts(): Counts {
  const out: Counts = {
    counts: { ...counts },
    timings: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, { ...v }])),
  };
  for (const file of [process.env.BENCH_COUNTS_FILE, process.env.BENCH_ENGINE_COUNTS_FILE]) {
    if (!file) continue;
    let child: Counts;
    try {
      child = JSON.parse(readFileSync(file, 'utf8')) as Counts;
    } catch {
      continue;
    }
    for (const [k, v] of Object.entries(child.counts)) out.counts[k] = (out.counts[k] ?? 0) + v;
    for (const [k, v] of Object.entries(child.timings)) {
      const t = (out.timings[k] ??= { ms: 0, n: 0 });
      t.ms += v.ms;
      t.n += v.n;
    }
  }
  return out;
}

/** In the consumers' process: count, and keep BENCH_COUNTS_FILE current. */
export function reportToFile(file: string): void {
  install();
  setInterval(() => writeFileSync(file, JSON.stringify({ counts, timings })), 100).unref();
}

export class CostCounter {
  private constructor(
    private readonly before: Record<string, number>,
    private readonly timingsBefore: Record<string, { ms: number; n: number }>,
  ) {}

  /** The bench's own connections (reconciliation) are not the pipeline's. */
  static exclude(client: object): void {
    excluded.add(client);
  }

  static start(): CostCounter {
    install();
    const now = allCounts();
    return new CostCounter(now.counts, now.timings);
  }

  /** Per step since start: calls and mean milliseconds per call. */
  stepTimes(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(allCounts().timings)) {
      const b = this.timingsBefore[k] ?? { ms: 0, n: 0 };
      const n = v.n - b.n;
      if (n > 0) out[k] = `${n} × ${((v.ms - b.ms) / n).toFixed(1)} ms`;
    }
    return out;
  }

  /** The counts since start, divided by `orders` (two decimals). */
  perOrder(orders: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(allCounts().counts)) {
      const d = v - (this.before[k] ?? 0);
      if (d > 0 && orders > 0) out[k] = Math.round((d / orders) * 100) / 100;
    }
    return out;
  }
}
