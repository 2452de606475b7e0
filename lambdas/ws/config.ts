// The WebSocket functions' configuration: each function's environment parsed by its own zod schema, once per
// container (lambdas/shared/config.ts), instead of raw `process.env` reads scattered through the handlers.
// The names are what lib/stacks/api/websocket-edge.ts sets (and local/exchange.ts under `npm start`).
import { z } from 'zod';
import { TABLES } from '@contracts/resources';
import { configOnce } from '../shared/config';

/** The origin-secret authorizer ($connect). */
export const authorizerSchema = z.object({
  /** The Secrets Manager secret whose value Cloudflare sends on every upgrade. */
  ORIGIN_SECRET_ARN: z.string().min(1),
  /** The header carrying it (case-insensitive). */
  ORIGIN_SECRET_HEADER: z.string().min(1).default('X-Cirrus-Origin-Secret'),
});

/** $connect, $disconnect and the message routes: the connections table. */
export const connectionsSchema = z.object({
  [TABLES.connections.envVar]: z.string().min(1),
});

/** User data on the WebSocket API: API keys (decrypted with DATA_KEY_ID), replay markers, bindings. */
export const userDataSchema = z.object({
  DATA_KEY_ID: z.string().min(1),
  [TABLES.idempotency.envVar]: z.string().min(1),
  [TABLES.connections.envVar]: z.string().min(1),
});

export const authorizerConfig = configOnce('ws-authorizer', authorizerSchema);
export const connectConfig = configOnce('ws-connect', connectionsSchema);
export const disconnectConfig = configOnce('ws-disconnect', connectionsSchema);
export const messagesConfig = configOnce('ws-messages', connectionsSchema);
export const userDataConfig = configOnce('ws-user-data', userDataSchema);
