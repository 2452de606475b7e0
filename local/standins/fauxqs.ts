// SQS (FIFO: group order, dedup, visibility) and S3 from npm fauxqs on one endpoint. fauxqs is ESM-only,
// so it runs as a child process (the launcher beside this file).
import { claimPort, spawnStandin, type Standin } from './ports';

export async function startSqsAndS3(opts: { port: number }): Promise<Standin> {
  const port = await claimPort(opts.port, 'SQS/S3 (fauxqs)');
  const server = await spawnStandin('fauxqs-server.mjs', [String(port)], 'fauxqs');
  return { endpoint: `http://127.0.0.1:${port}`, stop: server.stop };
}
