import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** Resolves with `port` if it can be bound on 127.0.0.1 (a free one when 0), or fails naming the component. */
export function claimPort(port: number, component: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `port ${port} for ${component} is already in use`
            : `${component}: ${err.message}`,
        ),
      ),
    );
    srv.listen(port, '127.0.0.1', () => {
      const { port: bound } = srv.address() as { port: number };
      srv.close(() => resolve(bound));
    });
  });
}

export interface Standin {
  endpoint: string;
  stop(): Promise<void>;
}

/** Kills the child if this process exits first, so no stand-in outlives `npm start` or a test run. */
export function killWithParent(child: ChildProcess): () => void {
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  return () => process.off('exit', kill);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
export function stopChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
  });
}

/**
 * A command line run at CPU priority `nice` (a stand-in off the order path), or as it is when `nice` is 0:
 * `nice -n N command …` execs the command, so the child's pid is the command's own.
 */
export function niced(nice: number, command: string[]): string[] {
  return nice > 0 ? ['nice', '-n', String(nice), ...command] : command;
}

/**
 * Runs a stand-in's launcher script (beside this file) in its own node process, so its work never waits on
 * the exchange's event loop, and resolves once it prints `ready` (with what follows on that line). `nice`
 * lowers its CPU priority (a stand-in off the order path); `tsx` runs a TypeScript launcher.
 */
export async function spawnStandin(
  script: string,
  args: string[],
  component: string,
  opts: { nice?: number; tsx?: boolean } = {},
): Promise<{ child: ChildProcess; ready: string; stop(graceMs?: number): Promise<void> }> {
  const node = [process.execPath, ...(opts.tsx ? ['--import', 'tsx'] : []), join(__dirname, script), ...args];
  const [command, ...rest] = niced(opts.nice ?? 0, node);
  const child = spawn(command, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  const release = killWithParent(child);
  const ready = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const line = /ready ?([^\n]*)\n/.exec(out);
      if (line) resolve(line[1]);
    });
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => reject(new Error(`${component} exited with ${code}: ${out.slice(-500)}`)));
  });
  return {
    child,
    ready,
    stop: (graceMs?: number) => {
      release();
      return stopChild(child, graceMs);
    },
  };
}
