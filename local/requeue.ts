// fauxqs keeps queues in memory, so commands queued but not yet received when the local exchange stopped
// are gone after a restart. On start, every order the engine never answered is queued again from the
// command stored with it; one the engine had applied after all is recognised by its command id (the engine
// rebuilds the applied ids from its event log) and only deleted. In AWS, SQS is durable and this is not run.
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { messageGroupId, type CommandMessage } from '../engine/service/messages';
import { dynamoClient } from '../lambdas/shared/clients';
import { OrderStore } from '../lambdas/shared/stores/orders';
import { TABLES } from '../lib/resources';

export async function requeueUnanswered(queueUrls: Record<string, string>): Promise<number> {
  const orders = new OrderStore(dynamoClient(), process.env[TABLES.orders.envVar] as string);
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  let sent = 0;
  try {
    for (const order of await orders.listUnanswered()) {
      if (!order.queuedCommand) continue;
      const message = JSON.parse(order.queuedCommand) as CommandMessage;
      const queueUrl = queueUrls[order.symbol];
      if (!queueUrl) continue;
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: order.queuedCommand,
          MessageGroupId: messageGroupId(order.symbol, order.userId),
          MessageDeduplicationId: message.cmdId,
        }),
      );
      sent++;
    }
  } finally {
    sqs.destroy();
  }
  return sent;
}
