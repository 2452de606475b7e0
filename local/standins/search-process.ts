// Starts the OpenSearch stand-in in a process of its own (./search-server.ts) for `npm start`, below the order
// path in the CPU's queue like DynamoDB Local (SEARCH_NICE, default 10; docs/operations.md#local-exchange):
// only the search indexer writes to it and only the search endpoint reads it.
import { claimPort, spawnStandin, type Standin } from './ports';

export async function startSearchProcess(opts: {
  port: number;
  stateFile?: string;
  legacyStateFile?: string;
}): Promise<Standin> {
  const port = await claimPort(opts.port, 'search stand-in');
  const files = opts.stateFile ? [opts.stateFile, opts.legacyStateFile ?? ''] : [];
  const server = await spawnStandin('search-server.ts', [String(port), ...files], 'search stand-in', {
    nice: Number(process.env.SEARCH_NICE ?? 10),
    tsx: true,
  });
  // Its journal is written on stop: more time than the default grace.
  return { endpoint: server.ready, stop: () => server.stop(10_000) };
}
