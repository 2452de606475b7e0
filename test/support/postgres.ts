// A private, real PostgreSQL server for integration tests: the local exchange's own server stand-in
// (local/standins/postgres-server.ts) in a throw-away directory with fsync off. DATABASE_URL, when set, is
// used instead. .ci/run installs the server binaries where they are missing.
import { startPostgresServer } from '@local/standins/postgres-server';

export interface TestPostgres {
  url: string;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<TestPostgres> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => undefined };
  return startPostgresServer({ fsync: false });
}
