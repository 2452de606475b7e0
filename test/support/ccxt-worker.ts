// Unmodified ccxt `binance` clients for tests, only their API URLs pointed at the local exchange
// (docs/api.md: the only change a user makes). ccxt's CommonJS build requires ES modules (@noble/*), which
// jest's sandboxed module loader cannot load (Node 20's own require can), so ccxt runs in a worker thread
// loaded by Node's require as any Node program loads it; calls go through a small message RPC and their
// results come back as JSON.
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
      // Observation only: the requests ccxt sends, by method and path (read with op 'get', 'requests').
      const fetch = exchange.fetch.bind(exchange);
      exchange.requests = [];
      exchange.fetch = (url, method, headers, body) => {
        exchange.requests.push(method + ' ' + new URL(url).pathname);
        return fetch(url, method, headers, body);
      };
      exchanges.set(name, exchange);
    } else if (op === 'get') {
      result = exchanges.get(name)[args[0]];
    } else if (op === 'version') {
      result = ccxt.version;
    } else {
      result = await exchanges.get(name)[op](...args);
    }
    parentPort.postMessage({ id, ok: true, result: JSON.stringify(result === undefined ? null : result) });
  } catch (err) {
    parentPort.postMessage({ id, ok: false, error: (err && err.constructor ? err.constructor.name : 'Error') + ': ' + (err && err.message) });
  }
});
`;

/** Named ccxt clients in one worker; `call` runs a method and returns its JSON-round-tripped result. */
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

  /** A client `name` with ccxt's `config` (apiKey, secret; {} for public calls), every API URL on `baseUrl`. */
  add(name: string, config: { apiKey?: string; secret?: string }, baseUrl: string): Promise<unknown> {
    return this.call(name, 'new', [config, baseUrl]);
  }

  /** Calls method `op` of client `name`; op 'get' reads a property (args: [name]), 'version' ccxt's version. */
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
