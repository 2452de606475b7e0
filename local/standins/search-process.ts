// Starts the OpenSearch stand-in in a process of its own (./search-server.ts) for `npm start`, below the order
// path in the CPU's queue like DynamoDB Local (SEARCH_NICE, default 10; docs/operations.md#local-exchange):
// only the search indexer writes to it and only the search endpoint reads it.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { claimPort, killWithParent, stopChild, type Standin } from './ports';

export async function startSearchProcess(opts: {
  port: number;
  stateFile?: string;
  legacyStateFile?: string;
}): Promise<Standin> {
  const port = await claimPort(opts.port, 'search stand-in');
  const nice = Number(process.env.SEARCH_NICE ?? 10);
  const node = [
    process.execPath,
    '--import',
    'tsx',
    join(__dirname, 'search-server.ts'),
    String(port),
    ...(opts.stateFile ? [opts.stateFile, opts.legacyStateFile ?? ''] : []),
  ];
  const child =
    nice > 0
      ? spawn('nice', ['-n', String(nice), ...node], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(node[0], node.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const release = killWithParent(child);
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const ready = /ready (\S+)/.exec(out);
      if (ready) resolve(ready[1]);
    });
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) =>
      reject(new Error(`search stand-in exited with ${code}: ${out.slice(-500)}`)),
    );
  });
  return {
    endpoint,
    stop: () => {
      release();
      return stopChild(child, 10_000);
    },
  };
}
