import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

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
