// WebSocket $connect: runs after the origin-secret authorizer admitted the request; records the connection.
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { z } from 'zod';
import { TABLES } from '../../lib/resources';
import { dynamoClient, requiredEnv } from '../shared/clients';
import { logger } from '../shared/powertools';
import { ConnectionStore } from './connection-store';

const connectEventSchema = z.object({
  requestContext: z.object({
    connectionId: z.string().min(1).max(128),
    routeKey: z.literal('$connect'),
    identity: z.object({ sourceIp: z.string().optional() }).partial().optional(),
  }),
  // Cloudflare's view of the client, for the audit trail.
  headers: z.record(z.string(), z.string()).nullish(),
});

let store: ConnectionStore | undefined;
const connections = () =>
  (store ??= new ConnectionStore(dynamoClient(), requiredEnv(TABLES.connections.envVar)));

export const handler = async (event: unknown): Promise<APIGatewayProxyResultV2> => {
  const parsed = connectEventSchema.safeParse(event);
  if (!parsed.success) {
    logger.warn('malformed $connect event', { issues: parsed.error.issues });
    return { statusCode: 400, body: 'Bad Request' };
  }
  const { requestContext, headers } = parsed.data;
  const clientIp =
    headers?.['CF-Connecting-IP'] ?? headers?.['cf-connecting-ip'] ?? requestContext.identity?.sourceIp;
  await connections().connect(requestContext.connectionId, Date.now(), clientIp);
  logger.info('connected', { connectionId: requestContext.connectionId });
  return { statusCode: 200 };
};
