// The login users of the database roles (migration 9, docs/architecture.md#database-roles): one per function
// family, a member of its NOLOGIN role and nothing else. In AWS each user's name and generated password live
// in a secret of their own (lib/stacks/data-stack.ts), which RDS Proxy authenticates against and the
// family's functions read; this module makes the database agree with that secret on every deploy. Locally
// the same users log in without a password (the local server trusts loopback connections).
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { escapeIdentifier, escapeLiteral, type Pool } from 'pg';
import { secretsClient } from '../shared/clients';
import { DATABASE_ROLES, type DatabaseRole } from '@contracts/migrations';

export interface Login {
  role: DatabaseRole;
  username: string;
  /** Omitted locally (trust authentication). */
  password?: string;
}

/**
 * Creates the login user, or brings an existing one in line: LOGIN, no other attribute, the password of its
 * secret, a member of its role. Idempotent, so every deploy may run it.
 */
export async function ensureLogin(pool: Pick<Pool, 'query'>, login: Login): Promise<void> {
  if (!DATABASE_ROLES.includes(login.role)) throw new Error(`unknown database role ${login.role}`);
  const user = escapeIdentifier(login.username);
  const exists = await pool.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [login.username]);
  const password = login.password === undefined ? '' : ` PASSWORD ${escapeLiteral(login.password)}`;
  await pool.query(
    `${exists.rowCount ? 'ALTER' : 'CREATE'} ROLE ${user} WITH LOGIN NOCREATEDB NOCREATEROLE INHERIT${password}`,
  );
  await pool.query(`GRANT ${escapeIdentifier(login.role)} TO ${user}`);
}

/** DB_LOGIN_SECRETS: {"cirrus_api": "<secret ARN>", …}, the db-migrate function's environment. */
export function loginSecretArns(raw: string | undefined): Array<{ role: DatabaseRole; secretArn: string }> {
  if (!raw) return [];
  const parsed = JSON.parse(raw) as Record<string, string>;
  return Object.entries(parsed).map(([role, secretArn]) => {
    if (!DATABASE_ROLES.includes(role as DatabaseRole)) throw new Error(`unknown database role ${role}`);
    return { role: role as DatabaseRole, secretArn };
  });
}

/** A login's name and password from its secret (the JSON RDS secrets hold: username, password, …). */
export async function loginFromSecret(role: DatabaseRole, secretArn: string): Promise<Login> {
  const out = await secretsClient().send(new GetSecretValueCommand({ SecretId: secretArn }));
  const { username, password } = JSON.parse(out.SecretString ?? '{}') as {
    username?: string;
    password?: string;
  };
  if (!username || !password) throw new Error(`the secret of ${role} has no username or password`);
  return { role, username, password };
}
