// CloudFormation custom resource (via the CDK provider framework): applies the ledger migrations on every
// deploy that changes them, then makes each function family's login user agree with its secret (name,
// password, membership of its role: lambdas/db-migrate/logins.ts). Migrations are versioned and each runs in
// its own transaction, and the logins are idempotent, so a retried or repeated run applies nothing twice.
// Delete does nothing: the ledger outlives any stack update.
import { z } from 'zod';
import { dbPool } from '../shared/db';
import { MIGRATIONS, migrate } from '@contracts/migrations';
import { logger } from '../shared/powertools';
import { ensureLogin, loginFromSecret, loginSecretArns } from './logins';

const eventSchema = z.object({
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  PhysicalResourceId: z.string().optional(),
});

export const handler = async (
  event: unknown,
): Promise<{ PhysicalResourceId: string; Data: { applied: number } }> => {
  const { RequestType, PhysicalResourceId } = eventSchema.parse(event);
  const id = PhysicalResourceId ?? 'cirrus-ledger-schema';
  if (RequestType === 'Delete') return { PhysicalResourceId: id, Data: { applied: 0 } };
  const pool = dbPool();
  const applied = await migrate(pool);
  logger.info('migrations applied', { applied, latest: MIGRATIONS.length });
  const logins = loginSecretArns(process.env.DB_LOGIN_SECRETS);
  for (const { role, secretArn } of logins) await ensureLogin(pool, await loginFromSecret(role, secretArn));
  logger.info('database logins in line with their secrets', { roles: logins.map((l) => l.role) });
  return { PhysicalResourceId: id, Data: { applied } };
};
