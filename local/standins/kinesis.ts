// Kinesis from npm kinesalite, persisted with leveldown when a data dir is given. It runs in a process of its
// own (the launcher beside this file): the engine's puts and the consumers' reads must not queue behind the
// API handlers in the exchange's event loop (docs/performance.md).
import { claimPort, spawnStandin, type Standin } from './ports';

export async function startKinesis(opts: { port: number; dataDir?: string }): Promise<Standin> {
  const port = await claimPort(opts.port, 'Kinesis (kinesalite)');
  const server = await spawnStandin(
    'kinesalite-server.mjs',
    [String(port), ...(opts.dataDir ? [opts.dataDir] : [])],
    'kinesalite',
  );
  return { endpoint: `http://127.0.0.1:${port}`, stop: server.stop };
}
