// Faults in the order pipeline (docs/operations.md): the engine killed mid-flow, an SQS send that fails
// ambiguously or never happens, a command in the DLQ, a Kinesis batch delivered twice. Nothing is lost,
// nothing is applied twice, funds are released only by the engine's answer.
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KinesisStreamEvent } from 'aws-lambda';
import { Pool } from 'pg';
import { MatchingEngine } from '@engine/core';
import { rulesFromSpec } from '@engine/core/market';
import { KinesisEventLog } from '@engine/service/adapters/kinesis-event-log';
import { S3SnapshotStore } from '@engine/service/adapters/s3-snapshot-store';
import { encodeRecord, type EventRecord } from '@contracts/messages';
import { MARKETS } from '@contracts/markets';
import { apiContext } from '@lambdas/api/context';
import { OrderService } from '@lambdas/api/orders/order-service';
import { handler as processBatch } from '@lambdas/data-processor/handler';
import { withDatabaseUrl } from '@lambdas/shared/db';
import { sqsClient } from '@lambdas/shared/clients';
import { dbPool } from '@lambdas/shared/db';
import { OutboxRelay, type CommandSender } from '@lambdas/shared/outbox/relay';
import { SqsCommandSender } from '@lambdas/shared/outbox/sqs-sender';
import { reconcile } from '@lambdas/reconciliation/reconcile';
import type { LocalExchange } from '@local/exchange';
import { BinanceTestClient, type ApiKey } from '../support/binance-client';
import {
  checkConservation,
  eventually,
  registerFundedUser,
  startTestExchange,
  type TestExchange,
} from '../support/exchange-helpers';
import type { TestPostgres } from '../support/postgres';

jest.setTimeout(240_000);

let pg: TestPostgres;
let ex: LocalExchange;
let api: BinanceTestClient;
let alice: ApiKey;
let bob: ApiKey;

let harness: TestExchange;

beforeAll(async () => {
  harness = await startTestExchange(30);
  ({ pg, ex, api, alice, bob } = harness);
});

afterAll(async () => {
  await harness?.stop();
});

async function ledgerSnapshot(): Promise<string> {
  const pool = new Pool({ connectionString: pg.url, max: 1 });
  try {
    const rows = await pool.query('SELECT * FROM accounts ORDER BY 1');
    return JSON.stringify(rows.rows);
  } finally {
    await pool.end();
  }
}

async function readWholeLog(): Promise<
  Array<{ record: EventRecord; sequenceNumber: string; shardId: string }>
> {
  const kinesis = new KinesisClient({ requestHandler: new NodeHttpHandler() });
  const out = [];
  for await (const r of new KinesisEventLog(kinesis, ex.env.EVENT_STREAM_NAME).readAfter({})) out.push(r);
  kinesis.destroy();
  return out;
}

/** The data processor's login URL when the exchange runs one login per function family, else DATABASE_URL. */
function processorDatabaseUrl(): string | undefined {
  const urls = process.env.CIRRUS_DATABASE_URLS;
  return urls ? (JSON.parse(urls) as Record<string, string>).cirrus_processor : undefined;
}

describe('pipeline faults', () => {
  it('kill -9 of the engine mid-flow: no order lost, none applied twice, same book as an uninterrupted run', async () => {
    // Resting liquidity from alice, then a stream of IOC buys from bob; the engine dies half-way.
    for (let i = 0; i < 10; i++) {
      const res = await api.signed('POST', '/api/v3/order', alice, {
        symbol: 'BTCUSDT',
        side: 'SELL',
        type: 'LIMIT',
        timeInForce: 'GTC',
        quantity: '0.05',
        price: String(31000 + i * 10),
        newOrderRespType: 'ACK',
      });
      expect([res.status, res.body]).toEqual([200, expect.objectContaining({ orderId: expect.any(Number) })]);
    }
    const accepted: number[] = [];
    const send = async (i: number) => {
      const res = await api.signed<{ orderId: number }>('POST', '/api/v3/order', bob, {
        symbol: 'BTCUSDT',
        side: 'BUY',
        type: 'LIMIT',
        timeInForce: 'IOC',
        quantity: '0.01',
        price: String(31000 + (i % 12) * 10),
        newOrderRespType: 'ACK',
        newClientOrderId: `ioc-${i}`,
      });
      expect([res.status, res.body]).toEqual([200, expect.objectContaining({ orderId: expect.any(Number) })]);
      accepted.push(res.body.orderId);
    };
    await Promise.all(Array.from({ length: 30 }, (_, i) => send(i)));
    ex.engine().kill('SIGKILL');
    await Promise.all(Array.from({ length: 30 }, (_, i) => send(30 + i))); // queued while the engine is down
    // Nobody restarts it by hand: the supervisor does, as ECS replaces a stopped task.
    await eventually(async () => expect(ex.restarts().engine).toBe(1), 30_000);

    // Every IOC order reaches a final state: none lost.
    await eventually(async () => {
      const all = await api.signed<Array<{ orderId: number; status: string }>>(
        'GET',
        '/api/v3/allOrders',
        bob,
        { symbol: 'BTCUSDT', limit: 1000 },
      );
      const final = new Map(all.body.map((o) => [o.orderId, o.status]));
      for (const id of accepted) expect(['FILLED', 'EXPIRED']).toContain(final.get(id));
    }, 60_000);

    // The log holds each command once, and replaying it from empty gives the engine's own state.
    const log = await readWholeLog();
    const cmdIds = log.flatMap((l) => l.record.commands.map((c) => c.cmdId));
    expect(new Set(cmdIds).size).toBe(cmdIds.length);
    const replay = new MatchingEngine(MARKETS.map(rulesFromSpec));
    const sink: never[] = [];
    for (const { record } of log) for (const c of record.commands) replay.apply(c.command, sink as never);

    await ex.restartEngine(); // graceful: the final snapshot holds the live engine's state
    const s3 = new S3Client({ forcePathStyle: true });
    const snapshot = await new S3SnapshotStore(s3, ex.env.SNAPSHOT_BUCKET).loadLatest(ex.env.ENGINE_SHARD);
    s3.destroy();
    expect(snapshot).toBeDefined();
    const live = MatchingEngine.restore(snapshot!.engine).snapshot();
    expect(
      live.markets.map((m) => [m.seq, m.tradeId, m.bids.length, m.asks.length, m.closedOrderIds.length]),
    ).toEqual(
      replay
        .snapshot()
        .markets.map((m) => [m.seq, m.tradeId, m.bids.length, m.asks.length, m.closedOrderIds.length]),
    );
    expect(live).toEqual(replay.snapshot());

    await eventually(() => checkConservation(pg.url));
  });

  // The accept path's SQS send after commit, each way it can go wrong. The order is accepted either way;
  // only the engine's answer releases its funds, and the relay delivers what the send did not.
  const realSender = () => new SqsCommandSender(sqsClient());
  const serviceWith = (sender: CommandSender) =>
    new OrderService({
      markets: new Map(MARKETS.map((m) => [m.symbol, m])),
      orders: apiContext().liveOrders,
      sender,
      book: { bestPrices: async () => ({}) },
    });
  const ioc = (clientId: string) => ({
    symbol: 'BTCUSDT',
    side: 'BUY',
    type: 'LIMIT',
    timeInForce: 'IOC',
    quantity: '0.01',
    price: '31100',
    newClientOrderId: clientId,
  });
  const placesOf = async (orderId: number) =>
    (await readWholeLog())
      .flatMap((l) => l.record.commands)
      .filter((c) => c.command.kind === 'place' && c.command.orderId === orderId);
  const lockOf = async (orderId: number) => {
    const pool = new Pool({ connectionString: pg.url, max: 1 });
    try {
      const res = await pool.query<{ status: string; remaining: string }>(
        'SELECT status, remaining FROM order_locks WHERE order_id = $1',
        [orderId],
      );
      return res.rows[0];
    } finally {
      await pool.end();
    }
  };
  // A trader of its own per test: the killed engine's messages of the earlier tests' groups stay invisible
  // for the visibility timeout (30 s), as in SQS, and would hold up a group they share.
  const freshTrader = async (name: string) =>
    (await registerFundedUser(api, pg.url, name, { USDT: '100000' })).userId;
  const answeredOnce = async (orderId: number) => {
    await eventually(async () => {
      const order = await apiContext().liveOrders.get(orderId);
      expect(order?.lastSeq).toBeGreaterThan(0);
      expect(['FILLED', 'EXPIRED']).toContain(order?.status);
      expect((await lockOf(orderId)).status).toBe('closed');
    }, 60_000);
    // The relay sends it once more with no grace at all: recognised, not applied twice.
    await new OutboxRelay(dbPool(), realSender(), {
      graceMs: 0,
      resendAfterMs: 0,
      batchSize: 100,
    }).deliverDue();
    expect(await placesOf(orderId)).toHaveLength(1);
    await eventually(() => checkConservation(pg.url));
  };

  it('SQS accepts the command but the send reports a failure: the order runs once, funds released by its answer', async () => {
    const sender: CommandSender = {
      send: async (messages) => {
        await realSender().send(messages);
        throw new Error('socket hang up after the request was sent (injected)');
      },
    };
    const userId = await freshTrader('ambiguous');
    const order = await serviceWith(sender).place(userId, ioc('ambiguous-1'));
    expect((await lockOf(order.orderId)).status).toBe('open'); // the failed send released nothing
    await answeredOnce(order.orderId);
  });

  it('the API dies between commit and send: the relay delivers the outbox row, applied once', async () => {
    const dead: CommandSender = { send: async () => Promise.reject(new Error('process killed (injected)')) };
    const userId = await freshTrader('killed');
    const order = await serviceWith(dead).place(userId, ioc('killed-1'));
    expect(order.lastSeq).toBe(0);
    expect((await lockOf(order.orderId)).status).toBe('open');
    // Nothing reaches the engine until the relay's pass (the exchange runs one every second, 2 s grace).
    await answeredOnce(order.orderId);
  });

  it('a place command in the DLQ keeps its order live and its funds locked until redriven, then runs once', async () => {
    const dlqUrl = harness.dlqUrl;
    const sqs = sqsClient();
    // The command goes to the DLQ instead of the queue, as after maxReceiveCount failed receives; the
    // outbox row is marked sent so the relay leaves it alone for this test's first half.
    const toDlq = new SqsCommandSender(sqs, () => dlqUrl);
    const userId = await freshTrader('dlq');
    const pool = new Pool({ connectionString: pg.url, max: 1 });
    try {
      const order = await serviceWith(toDlq).place(userId, ioc('dlq-1'));
      await pool.query(
        "UPDATE outbox SET last_sent_at = clock_timestamp() + interval '1 hour' WHERE cmd_id = $1",
        [`p-${order.orderId}`],
      );
      await new Promise((r) => setTimeout(r, 2_500));
      expect((await apiContext().liveOrders.get(order.orderId))?.status).toBe('NEW');
      expect((await lockOf(order.orderId)).status).toBe('open');
      await checkConservation(pg.url);

      // Redrive (what SQS's DLQ redrive does): the message goes back to its queue and runs once.
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10 }));
      const message = got.Messages?.find((m) => m.Body?.includes(`"p-${order.orderId}"`));
      expect(message).toBeDefined();
      await realSender().send([
        {
          cmdId: `p-${order.orderId}`,
          market: 'BTCUSDT',
          groupId: `BTCUSDT-${userId % 16}`,
          body: message!.Body!,
        },
      ]);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: message!.ReceiptHandle }));
      await answeredOnce(order.orderId);
    } finally {
      await pool.end();
    }
  });

  it('reconciliation finds the ledger and the engine snapshot in agreement, and flags a lock the engine does not hold', async () => {
    await ex.restartEngine(); // a fresh final snapshot
    await eventually(() => checkConservation(pg.url));
    const s3 = new S3Client({ forcePathStyle: true });
    const snapshots = new S3SnapshotStore(s3, ex.env.SNAPSHOT_BUCKET);
    const pool = new Pool({ connectionString: pg.url, max: 2 });
    try {
      const clean = await reconcile({ pool, snapshots, shards: [ex.env.ENGINE_SHARD] });
      expect(clean.problems).toEqual([]);
      expect(clean.ok).toBe(true);

      // A lock an hour old for an order the engine has never held: an orphan, and the ledger's own
      // locked total no longer matches (both found, in one run).
      const bobId = (await apiContext().keys.resolve(bob.apiKey))!.userId;
      await pool.query(
        `INSERT INTO order_locks (order_id, user_id, market, asset, locked_total, remaining, created_at)
         VALUES (987654321, $1, 'BTCUSDT', 'USDT', 5, 5, now() - interval '1 hour')`,
        [bobId],
      );
      const dirty = await reconcile({ pool, snapshots, shards: [ex.env.ENGINE_SHARD] });
      expect(dirty.ok).toBe(false);
      expect(dirty.orphanLocks.map((l) => l.orderId)).toEqual([987654321]);
      expect(dirty.conservationProblems.join(' ')).toContain('open order locks');
      const audit = await pool.query<{ detail: string }>(
        "SELECT detail FROM audit_log WHERE actor = 'reconciliation' ORDER BY id DESC LIMIT 1",
      );
      expect(audit.rows[0].detail).toContain('987654321');
      await pool.query('DELETE FROM order_locks WHERE order_id = 987654321');
    } finally {
      await pool.end();
      s3.destroy();
    }
  });

  it('a Kinesis batch processed twice changes nothing', async () => {
    await eventually(() => checkConservation(pg.url));
    const log = await readWholeLog();
    expect(log.length).toBeGreaterThan(0);
    const event: KinesisStreamEvent = {
      Records: log.map((l) => ({
        eventID: `${l.shardId}:${l.sequenceNumber}`,
        eventName: 'aws:kinesis:record',
        eventVersion: '1.0',
        eventSource: 'aws:kinesis',
        awsRegion: 'us-east-1',
        invokeIdentityArn: 'arn:aws:iam::000000000000:role/local',
        eventSourceARN: `arn:aws:kinesis:us-east-1:000000000000:stream/${ex.env.EVENT_STREAM_NAME}`,
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: l.record.market,
          sequenceNumber: l.sequenceNumber,
          data: Buffer.from(encodeRecord(l.record)).toString('base64'),
          approximateArrivalTimestamp: Date.now() / 1000,
        },
      })),
    };
    const before = await ledgerSnapshot();
    // As the data processor's own database login, as its consumer runs it (docs/architecture.md#database-roles).
    const asProcessor = () => withDatabaseUrl(processorDatabaseUrl(), () => processBatch(event));
    expect(await asProcessor()).toEqual({ batchItemFailures: [] });
    expect(await asProcessor()).toEqual({ batchItemFailures: [] });
    expect(await ledgerSnapshot()).toBe(before);
    await checkConservation(pg.url);
  });
});
