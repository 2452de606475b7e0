// CloudFormation custom resource (via the CDK provider framework): applies the ledger migrations on every
// deploy that changes them. Migrations are versioned and each runs in its own transaction, so a retried or
// repeated run applies nothing twice. Delete does nothing: the ledger outlives any stack update.
import { z } from 'zod';
import { dbPool } from '../shared/db';
import { MIGRATIONS, migrate } from '../shared/ledger/migrations';
import { logger } from '../shared/powertools';

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
  const applied = await migrate(dbPool());
  logger.info('migrations applied', { applied, latest: MIGRATIONS.length });
  return { PhysicalResourceId: id, Data: { applied } };
};
