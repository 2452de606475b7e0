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
