// `npm start`: the whole exchange on this machine. Flags: --fresh (start from empty state),
// --demo-liquidity (resting orders from a market-maker user), --no-demo-users, --port N.
// CIRRUS_POSTGRES=auto (default: a real PostgreSQL server when its binaries are installed, else the embedded
// pglite) | server | embedded; DATABASE_URL uses an existing database instead.
import { join } from 'node:path';
import { startLocalExchange } from './exchange';
import type { PostgresMode } from './standins';

function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

// Node 20 is this project's pinned runtime (README); the SDK's notice that later releases need Node 22 is not
// something a user of `npm start` can act on, so it is not printed on every start (the engine child inherits it).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function postgresMode(value: string | undefined): PostgresMode {
  if (value === undefined || value === '') return 'auto';
  if (value === 'auto' || value === 'server' || value === 'embedded') return value;
  throw new Error(`CIRRUS_POSTGRES must be auto, server or embedded (got '${value}')`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const exchange = await startLocalExchange({
    dataDir: join(process.cwd(), '.cirrus'),
    fresh: flag('fresh'),
    restPort: Number(option('port') ?? 8080),
    demoUsers: !flag('no-demo-users'),
    demoLiquidity: flag('demo-liquidity'),
    databaseUrl: process.env.DATABASE_URL,
    postgres: postgresMode(process.env.CIRRUS_POSTGRES),
    captureOutput: true,
  });
  console.log('');
  console.log(`Cirrus is up in ${((Date.now() - started) / 1000).toFixed(1)} s: REST ${exchange.restUrl}`);
  for (const user of exchange.seeded.demoKeys) {
    console.log(`  ${user.name.padEnd(6)} apiKey ${user.apiKey}\n         secret ${user.secretKey}`);
  }
  if (exchange.seeded.demoKeys.length > 0) console.log('  (also in .cirrus/demo-keys.json)');
  console.log('Try: curl ' + exchange.restUrl + '/api/v3/exchangeInfo   — Ctrl-C stops everything.');
  console.log('Warnings and errors appear below; full logs in .cirrus/logs/ (LOG_LEVEL=DEBUG for more).');

  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    exchange.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error(`\nCirrus could not start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
