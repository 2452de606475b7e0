// The OpenSearch stand-in (./search.ts) in its own process, so indexing a bulk (tens of ms for a second's
// documents) never stalls the exchange's event loop, which serves the order path. Started by
// ./search-process.ts as `node --import tsx search-server.ts PORT [JOURNAL LEGACY_SNAPSHOT]`.
import { startSearch } from './search';

async function main(): Promise<void> {
  const [port, stateFile, legacyStateFile] = [Number(process.argv[2] ?? 0), process.argv[3], process.argv[4]];
  const search = await startSearch({ port, stateFile, legacyStateFile });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await search.stop(); // writes what the journal has not yet
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  // The exchange was killed (kill -9 leaves no exit hook to run): do not outlive it.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && void stop(), 1_000).unref();
  process.stdout.write(`ready ${search.endpoint}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`search stand-in failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
