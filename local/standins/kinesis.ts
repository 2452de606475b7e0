// Kinesis from npm kinesalite, in-process; persisted with leveldown when a data dir is given.
import { claimPort, type Standin } from './ports';

interface KinesaliteServer {
  listen(port: number, host: string, cb: (err?: Error) => void): void;
  close(cb: () => void): void;
}

export async function startKinesis(opts: { port: number; dataDir?: string }): Promise<Standin> {
  const port = await claimPort(opts.port, 'Kinesis (kinesalite)');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const kinesalite = require('kinesalite') as (o: Record<string, unknown>) => KinesaliteServer;
  const server = kinesalite({
    path: opts.dataDir,
    createStreamMs: 0,
    deleteStreamMs: 0,
    updateStreamMs: 0,
    shardLimit: 50,
  });
  await new Promise<void>((resolve, reject) =>
    server.listen(port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
  );
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
