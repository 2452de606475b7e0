// A real PostgreSQL server for the local exchange, when the machine has the server binaries (Debian's
// postgresql-15 package, or PG_BIN): initdb into the data directory on first start, then pg_ctl start on a
// free loopback port; as the unprivileged `postgres` user when run as root (initdb refuses root). Unlike the
// embedded pglite it runs transactions concurrently, so the API and the consumers get pools of their own
// (docs/performance.md). Tests use the same code through test/support/postgres.ts.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimPort } from './ports';

export interface PostgresServer {
  url: string;
  stop(): Promise<void>;
}

/** The directory holding initdb and pg_ctl, if this machine has one. */
export function findPostgresBin(): string | undefined {
  const candidates = process.env.PG_BIN
    ? [process.env.PG_BIN]
    : existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql')
          .filter((v) => /^\d+$/.test(v))
          .sort((a, b) => Number(b) - Number(a))
          .map((v) => `/usr/lib/postgresql/${v}/bin`)
      : [];
  return candidates.find((dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
}

export interface PostgresServerOptions {
  /** Keep the cluster here between runs; omit for a throw-away cluster. */
  dataDir?: string;
  port?: number;
  bin?: string;
  /** Durability as a deployment has it (default). Tests turn fsync off for speed. */
  fsync?: boolean;
}

export async function startPostgresServer(opts: PostgresServerOptions = {}): Promise<PostgresServer> {
  const bin = opts.bin ?? findPostgresBin();
  if (!bin)
    throw new Error('PostgreSQL server binaries not found (apt-get install postgresql-15, or set PG_BIN)');
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { stdio: 'pipe' })
      : execFileSync(join(bin, cmd), args, { stdio: 'pipe' });
  const temporary = !opts.dataDir;
  const home = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'cirrus-pg-'));
  mkdirSync(home, { recursive: true });
  const data = join(home, 'data');
  if (asRoot) chownPostgres(home);
  if (!existsSync(join(data, 'PG_VERSION'))) {
    run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  } else if (existsSync(join(data, 'postmaster.pid'))) {
    // A previous run that was killed left its server running or its pid file behind: stop it first.
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
    } catch {
      // not running: pg_ctl start clears a stale pid file itself
    }
  }
  const port = await claimPort(opts.port ?? 0, 'PostgreSQL');
  const settings = [
    `-p ${port}`,
    `-k ${home}`,
    '-c listen_addresses=127.0.0.1',
    '-c max_connections=200',
    opts.fsync === false ? '-c fsync=off' : '',
    // PG_SERVER_OPTIONS: more server settings for profiling, e.g. the bench's BENCH_PG_STATEMENTS preloads
    // pg_stat_statements with `-c shared_preload_libraries=pg_stat_statements`.
    process.env.PG_SERVER_OPTIONS ?? '',
  ].join(' ');
  run('pg_ctl', ['-D', data, '-w', '-t', '60', '-l', join(home, 'server.log'), '-o', settings, 'start']);
  let stopped = false;
  const stopNow = () => {
    if (stopped) return;
    stopped = true;
    try {
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    } catch {
      // already gone
    }
    if (temporary) rmSync(home, { recursive: true, force: true });
  };
  // A server must not outlive the process that started it (Ctrl-C, a crash, a test run's end).
  process.once('exit', stopNow);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      process.off('exit', stopNow);
      stopNow();
    },
  };
}

function chownPostgres(dir: string): void {
  const ids = execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim();
  const gid = execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim();
  chownSync(dir, Number(ids), Number(gid));
  chmodSync(dir, 0o700);
}
