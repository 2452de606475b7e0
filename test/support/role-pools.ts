// A private PostgreSQL server, migrated, with one connection pool per database role's login user
// (docs/architecture.md#database-roles): what the least-privilege tests run each function family's code as.
import { Pool } from 'pg';
import { DATABASE_ROLES, loginUserOf, migrate, type DatabaseRole } from '@contracts/migrations';
import { ensureLogin } from '@lambdas/db-migrate/logins';
import { databaseUrlAs } from '@local/seed';
import { startPostgres, type TestPostgres } from './postgres';

export interface RolePools {
  pg: TestPostgres;
  /** The server's owner: migrations, fixtures, and what no role may do. */
  owner: Pool;
  /** One pool per role, connected as its login user. */
  as: Record<DatabaseRole, Pool>;
  stop(): Promise<void>;
}

export async function startRolePools(): Promise<RolePools> {
  const pg = await startPostgres();
  const owner = new Pool({ connectionString: pg.url, max: 4 });
  await migrate(owner);
  const as = {} as Record<DatabaseRole, Pool>;
  for (const role of DATABASE_ROLES) {
    await ensureLogin(owner, { role, username: loginUserOf(role) });
    as[role] = new Pool({ connectionString: databaseUrlAs(pg.url, loginUserOf(role)), max: 2 });
  }
  return {
    pg,
    owner,
    as,
    async stop() {
      await Promise.all(Object.values(as).map((p) => p.end()));
      await owner.end();
      await pg.stop();
    },
  };
}

/** The statement fails with PostgreSQL's insufficient_privilege. */
export async function refused(pool: Pool, sql: string, params: unknown[] = []): Promise<void> {
  await expect(pool.query(sql, params)).rejects.toMatchObject({ code: '42501' });
}
