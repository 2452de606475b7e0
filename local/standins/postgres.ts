// Embedded PostgreSQL (pglite) behind pglite-socket, so the unmodified `pg` driver connects over TCP.
// pglite runs one transaction at a time across all connections.
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { claimPort } from './ports';

export async function startEmbeddedPostgres(opts: {
  port: number;
  dataDir?: string;
}): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await claimPort(opts.port, 'PostgreSQL (pglite)');
  const db = await PGlite.create(opts.dataDir ? { dataDir: opts.dataDir } : {});
  const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections: 64 });
  await server.start();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
