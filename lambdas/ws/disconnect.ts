// WebSocket $disconnect: removes the connection and its subscriptions (TTL catches a missed call).
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { TABLES } from '@contracts/resources';
import { dynamoClient } from '../shared/clients';
import { disconnectConfig } from './config';
import { logger } from '../shared/powertools';
import { ConnectionStore } from './connection-store';
import { lambdaHandler } from '../shared/handler';

const disconnectEventSchema = z.object({
  requestContext: z.object({
    connectionId: z.string().min(1).max(128),
    routeKey: z.literal('$disconnect'),
    disconnectStatusCode: z.number().optional(),
  }),
});

let store: ConnectionStore | undefined;
const connections = () =>
  (store ??= new ConnectionStore(dynamoClient(), disconnectConfig()[TABLES.connections.envVar]));

const handle = async (event: unknown): Promise<APIGatewayProxyResultV2> => {
  const parsed = disconnectEventSchema.safeParse(event);
  if (!parsed.success) {
    logger.warn('malformed $disconnect event', { issues: parsed.error.issues });
    return { statusCode: 400 };
  }
  const { connectionId, disconnectStatusCode } = parsed.data.requestContext;
  const removed = await connections().disconnect(connectionId);
  logger.info('disconnected', { connectionId, disconnectStatusCode, subscriptionsRemoved: removed });
  return { statusCode: 200 };
};

export const handler = lambdaHandler(handle);
