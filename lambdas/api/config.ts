// The REST functions' own settings (docs/deploy.md), each parsed by one zod schema once per container
// (lambdas/shared/config.ts). Resource names (tables, queues, keys) are bound by CDK and read where the
// client is built (./context.ts); these are the operational switches.
import { z } from 'zod';
import { configOnce } from '../shared/config';

const flag = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1');

const userIds = z
  .string()
  .optional()
  .transform((v) => (v ?? '').replace(/\s+/g, ''))
  .pipe(z.string().regex(/^(\d{1,16}(,\d{1,16})*)?$/, 'comma-separated user ids'))
  .transform((v) => new Set(v === '' ? [] : v.split(',').map(Number)));

// One schema per function (each REST family is a Lambda function of its own: docs/deploy.md), so each reads
// only its own switch, at its own first use.

/** The users function: `false` refuses POST /cirrus/v1/users (prod: operators provision accounts). Default open. */
export const usersConfigSchema = z.object({
  REGISTRATION_OPEN: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
});

/** The market-data function: `true` (or 1) makes GET /sapi/v1/system/status report maintenance. */
export const marketDataConfigSchema = z.object({ SYSTEM_MAINTENANCE: flag });

/** The search function: the user ids allowed scope=ALL (none when unset). */
export const searchConfigSchema = z.object({ SEARCH_OPERATOR_USER_IDS: userIds });

export const usersConfig = configOnce('users', usersConfigSchema);
export const marketDataConfig = configOnce('market-data', marketDataConfigSchema);
export const searchConfig = configOnce('search', searchConfigSchema);
