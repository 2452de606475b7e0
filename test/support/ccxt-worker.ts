// Unmodified ccxt `binance` clients in a worker thread, only their URLs pointed at the local exchange (ccxt's
// CommonJS build and its own fetch stay out of jest's module registry that way; see ccxt-compat.test.ts).
import { Worker } from 'node:worker_threads';

const WORKER = `
const { parentPort } = require('node:worker_threads');
const ccxt = require('ccxt');
const exchanges = new Map();
parentPort.on('message', async ({ id, name, op, args }) => {
  try {
    let result = null;
    if (op === 'new') {
      const [config, base] = args;
      const exchange = new ccxt.binance(config);
      exchange.urls.api = Object.fromEntries(
        Object.entries(exchange.urls.api).map(([k, url]) => [k, url.replace(/^https:\\/\\/[^/]+/, base)]),
      );
      exchanges.set(name, exchange);
    } else {
      result = await exchanges.get(name)[op](...args);
    }
    parentPort.postMessage({ id, ok: true, result: JSON.stringify(result === undefined ? null : result) });
  } catch (err) {
    parentPort.postMessage({ id, ok: false, error: (err && err.constructor ? err.constructor.name : 'Error') + ': ' + (err && err.message) });
  }
});
`;

/** Named ccxt clients, one worker; `call` runs a method and returns its JSON-round-tripped result. */
export class CcxtWorker {
  private readonly worker = new Worker(WORKER, { eval: true });
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor() {
    this.worker.on('message', (m: { id: number; ok: boolean; result?: string; error?: string }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.ok) p?.resolve(JSON.parse(m.result!));
      else p?.reject(new Error(m.error));
    });
  }

  /** A client `name` with ccxt's `config` (apiKey, secret), every API URL on `baseUrl` (no trailing slash). */
  add(name: string, config: { apiKey: string; secret: string }, baseUrl: string): Promise<unknown> {
    return this.call(name, 'new', [config, baseUrl]);
  }

  call(name: string, op: string, args: unknown[] = []): Promise<unknown> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, name, op, args });
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}
