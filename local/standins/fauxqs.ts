// SQS (FIFO: group order, dedup, visibility) and S3 from npm fauxqs on one endpoint. fauxqs is ESM-only,
// so it runs as a child process (the launcher beside this file).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { claimPort, killWithParent, stopChild, type Standin } from './ports';

export async function startSqsAndS3(opts: { port: number }): Promise<Standin> {
  const port = await claimPort(opts.port, 'SQS/S3 (fauxqs)');
  const child = spawn(process.execPath, [join(__dirname, 'fauxqs-server.mjs'), String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const release = killWithParent(child);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('ready')) resolve();
    });
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => reject(new Error(`fauxqs exited with ${code}: ${out.slice(-500)}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => {
      release();
      return stopChild(child);
    },
  };
}
