// The SQS sender of outbox commands, against a recording double of the SQS client: coalesced single sends share
// one SendMessageBatch per queue and 10 messages, each caller learns its own entry's fate, and a caller's
// several messages keep their order on the sequential path.
import {
  SendMessageBatchCommand,
  SendMessageCommand,
  type SendMessageBatchCommandOutput,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { OutboxMessage } from '@lambdas/shared/ledger/order-repository';
import { SqsCommandSender } from '@lambdas/shared/outbox/sqs-sender';

const message = (n: number, market = 'BTCUSDT'): OutboxMessage => ({
  cmdId: `place:${n}`,
  market,
  groupId: `${market}#${n % 4}`,
  body: JSON.stringify({ n }),
});

function recordingSqs(answer: (cmd: SendMessageBatchCommand | SendMessageCommand) => unknown = () => ({})) {
  const sent: Array<SendMessageBatchCommand | SendMessageCommand> = [];
  const sqs = {
    send: async (cmd: SendMessageBatchCommand | SendMessageCommand) => {
      sent.push(cmd);
      return answer(cmd);
    },
  } as unknown as SQSClient;
  return { sqs, sent };
}

const urlFor = (market: string) => `http://sqs.local/queue-${market}.fifo`;

describe('SqsCommandSender', () => {
  it('coalesces the single sends of one turn: one SendMessageBatch per queue and 10 messages, in call order', async () => {
    const { sqs, sent } = recordingSqs();
    const sender = new SqsCommandSender(sqs, urlFor, { coalesce: true });
    const messages = [...Array.from({ length: 12 }, (_, i) => message(i)), message(100, 'ETHUSDT')];
    await Promise.all(messages.map((m) => sender.send([m])));

    const batches = sent.filter((c) => c instanceof SendMessageBatchCommand);
    const singles = sent.filter((c) => c instanceof SendMessageCommand);
    expect(batches.map((b) => b.input.Entries?.length)).toEqual([10, 2]);
    expect(batches[0].input.QueueUrl).toBe(urlFor('BTCUSDT'));
    expect(batches.flatMap((b) => b.input.Entries!.map((e) => e.MessageDeduplicationId))).toEqual(
      messages.slice(0, 12).map((m) => m.cmdId),
    );
    expect(batches[0].input.Entries![3]).toMatchObject({
      MessageGroupId: messages[3].groupId,
      MessageBody: messages[3].body,
    });
    // The one ETHUSDT message is alone on its queue: a plain SendMessage.
    expect(singles).toHaveLength(1);
    expect(singles[0].input).toMatchObject({
      QueueUrl: urlFor('ETHUSDT'),
      MessageDeduplicationId: 'place:100',
    });
  });

  it('an entry SQS refuses fails only its own caller; a failed request fails every caller in it', async () => {
    const { sqs } = recordingSqs(
      () =>
        ({
          Successful: [],
          Failed: [{ Id: '1', Code: 'InternalError', SenderFault: false, Message: 'try again' }],
        }) as unknown as SendMessageBatchCommandOutput,
    );
    const sender = new SqsCommandSender(sqs, urlFor, { coalesce: true });
    const results = await Promise.allSettled([0, 1, 2].map((n) => sender.send([message(n)])));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toContain('place:1');

    const down = recordingSqs(() => {
      throw new Error('socket hang up');
    });
    const failing = new SqsCommandSender(down.sqs, urlFor, { coalesce: true });
    const all = await Promise.allSettled([0, 1, 2].map((n) => failing.send([message(n)])));
    expect(all.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(down.sent).toHaveLength(1);
  });

  it("sends in a later turn go in a later request; a caller's several messages go in order, never coalesced", async () => {
    const { sqs, sent } = recordingSqs();
    const sender = new SqsCommandSender(sqs, urlFor, { coalesce: true });
    await sender.send([message(1)]);
    await sender.send([message(2)]);
    expect(sent.map((c) => c.constructor.name)).toEqual(['SendMessageCommand', 'SendMessageCommand']);

    sent.length = 0;
    const many = Array.from({ length: 15 }, (_, i) => message(10 + i));
    await Promise.all([sender.send(many), sender.send([message(99)])]);
    const ids = sent.map((c) =>
      c instanceof SendMessageBatchCommand
        ? c.input.Entries!.map((e) => e.MessageDeduplicationId)
        : [c.input.MessageDeduplicationId],
    );
    expect(ids.filter((l) => l.length > 1).flat()).toEqual(many.map((m) => m.cmdId));
    expect(ids).toContainEqual(['place:99']);
  });
});
