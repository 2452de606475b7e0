// The WebSocket fan-out's configuration, parsed once per container.
import { z } from 'zod';
import { TABLES } from '@contracts/resources';
import { configOnce } from '../shared/config';

export const fanOutConfig = configOnce(
  'ws-fanout',
  z.object({
    /** The stage's callback URL in AWS; the local stand-in's under `npm start`. */
    WS_CALLBACK_URL: z.string().min(1),
    [TABLES.connections.envVar]: z.string().min(1),
    [TABLES.marketData.envVar]: z.string().min(1),
    [TABLES.trades.envVar]: z.string().min(1),
    /** Connections posted to at once. */
    WS_FANOUT_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(64),
    /** A post still running after this is abandoned and counted as failed. */
    WS_POST_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(2_000),
  }),
);
