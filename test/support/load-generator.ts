// An open-loop order load from its own process, so that the exchange under test gets the whole offered
// rate and the client's own clock and event loop stay honest (a generator sharing the exchange's process
// falls behind with it and signs stale timestamps). Run as a child: `node --import tsx load-generator.ts`
// with LOAD_SPEC (JSON) in the environment; prints one JSON line of results.
import { createHmac } from 'node:crypto';
import { fork } from 'node:child_process';
import { Agent, request } from 'node:http';

export interface LoadSpec {
  url: string;
  users: Array<{ apiKey: string; secretKey: string }>;
  ratePerSecond: number;
  seconds: number;
  symbol: string;
  /** Prices around which makers sell and takers buy (ticks as decimal strings). */
  price: number;
  quantity: string;
  /** Unique per run: client order ids (and therefore signatures) never repeat. */
  runId: string;
  /**
   * ioc-cross (default): makers and takers alternate, all IOC, every other pair crossing.
   * book-mix (the pipeline bench): BUY/SELL straddling `price` by up to 10 ticks, 80 % GTC, 20 % IOC.
   */
  shape?: 'ioc-cross' | 'book-mix';
  /** Return one entry per request (the bench's latency histograms). */
  detail?: boolean;
}

/** One request: index, HTTP status, Binance code (0 if none), latency from its scheduled time (µs),
 * orderId (0 unless accepted), scheduled wall-clock time (ms). */
export type RequestRecord = [number, number, number, number, number, number];

export interface LoadResult {
  /** "200", or "<status>/<code>", or "transport: <error>" → count. */
  answers: Record<string, number>;
  accepted: number[];
  /** Refusals (429, 418, 503) that came without a Retry-After header. */
  missingRetryAfter: number;
  elapsedSeconds: number;
  /** How late the generator itself sent, at worst (its own backlog), in ms. */
  maxSendLagMs: number;
  /** CPU time the generator's own process used (it shares the machine with the exchange), in ms. */
  cpuMs: number;
  /**
   * -1021 answers (timestamp outside recvWindow) by where the time went: `client` when the request left this
   * process with less than a second of its window left (it waited here or behind a starved event loop),
   * `gateway` when it left fresh and the exchange still found it stale (it waited there).
   */
  stale: { client: number; gateway: number };
  requests?: RequestRecord[];
}

/** Binance's default recvWindow: the generator sends none. */
const RECV_WINDOW_MS = 5_000;

/** Runs the generator in a child process and resolves with what it saw. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, LOAD_SPEC: JSON.stringify(spec) },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`load generator exited with ${code}: ${out.slice(-500)}`));
      resolve(JSON.parse(line) as LoadResult);
    });
  });
}

async function generate(spec: LoadSpec): Promise<LoadResult> {
  // No client-side queue: a request waiting for a socket would carry a timestamp signed before it was sent.
  const agent = new Agent({ keepAlive: true });
  const answers: Record<string, number> = {};
  const accepted: number[] = [];
  let missingRetryAfter = 0;
  let maxSendLagMs = 0;
  const stale = { client: 0, gateway: 0 };
  const inflight: Array<Promise<void>> = [];
  const requests: RequestRecord[] | undefined = spec.detail ? [] : undefined;
  const start = performance.now();
  const startWall = Date.now();
  const total = spec.ratePerSecond * spec.seconds;
  for (let i = 0; i < total; i++) {
    const scheduled = start + (i * 1000) / spec.ratePerSecond;
    const wait = scheduled - performance.now();
    // Behind schedule, still yield once per request: a burst signed without yielding would sit unsent (and
    // age) until the loop ends, then reach the exchange already past its recvWindow.
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    else await new Promise((r) => setImmediate(r));
    maxSendLagMs = Math.max(maxSendLagMs, performance.now() - scheduled);
    const user = spec.users[i % spec.users.length];
    const fields = orderParams(spec, i);
    const signedAt = Number(fields.timestamp);
    const params = new URLSearchParams(fields).toString();
    const signature = createHmac('sha256', user.secretKey).update(params).digest('hex');
    inflight.push(
      send(agent, `${spec.url}/api/v3/order?${params}&signature=${signature}`, user.apiKey).then(
        ({ status, body, retryAfter, writtenAt }) => {
          const code = (body as { code?: number }).code;
          if (code === -1021) {
            if (writtenAt - signedAt > RECV_WINDOW_MS - 1_000) stale.client++;
            else stale.gateway++;
          }
          const orderId = status === 200 ? (body as { orderId: number }).orderId : 0;
          const latencyUs = Math.max(1, Math.round((performance.now() - scheduled) * 1000));
          requests?.push([i, status, code ?? 0, latencyUs, orderId, startWall + (scheduled - start)]);
          const key = status === 200 ? '200' : `${status}/${String(code)}`;
          answers[key] = (answers[key] ?? 0) + 1;
          if (status === 200) accepted.push((body as { orderId: number }).orderId);
          else if ([418, 429, 503].includes(status) && !retryAfter) missingRetryAfter++;
        },
        (err: unknown) => {
          const key = `transport: ${err instanceof Error ? err.message : String(err)}`;
          answers[key] = (answers[key] ?? 0) + 1;
        },
      ),
    );
  }
  await Promise.all(inflight);
  agent.destroy();
  return {
    answers,
    accepted,
    missingRetryAfter,
    elapsedSeconds: (performance.now() - start) / 1000,
    maxSendLagMs: Math.round(maxSendLagMs),
    stale,
    cpuMs: (() => {
      const { user, system } = process.cpuUsage();
      return Math.round((user + system) / 1000);
    })(),
    requests,
  };
}

function orderParams(spec: LoadSpec, i: number): Record<string, string> {
  const common = {
    symbol: spec.symbol,
    type: 'LIMIT',
    quantity: spec.quantity,
    newClientOrderId: `${spec.runId}-${i}`,
    // One order in four waits for the engine's answer (FULL, as ccxt asks by default).
    newOrderRespType: i % 4 === 3 ? 'FULL' : 'ACK',
  };
  if (spec.shape === 'book-mix') {
    const side = i % 2 === 0 ? 'BUY' : 'SELL';
    const offset = (i * 7919) % 40; // prices straddle `price` so a few percent of orders cross and trade
    const price = side === 'BUY' ? spec.price - 10 + offset / 2 : spec.price + 10 - offset / 2;
    return {
      ...common,
      side,
      timeInForce: i % 5 === 0 ? 'IOC' : 'GTC',
      price: price.toFixed(2),
      timestamp: String(Date.now()),
    };
  }
  const maker = i % 2 === 0;
  return {
    ...common,
    side: maker ? 'SELL' : 'BUY',
    timeInForce: 'IOC',
    price: String(maker ? spec.price - (i % 5) * 10 : spec.price + (i % 5) * 10),
    timestamp: String(Date.now()),
  };
}

function send(
  agent: Agent,
  url: string,
  apiKey: string,
): Promise<{ status: number; body: unknown; retryAfter?: string; writtenAt: number }> {
  return new Promise((resolve, reject) => {
    let writtenAt = Number.POSITIVE_INFINITY;
    const req = request(url, { method: 'POST', agent, headers: { 'X-MBX-APIKEY': apiKey } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // keep the text
        }
        const retryAfter = res.headers['retry-after'];
        resolve({
          status: res.statusCode ?? 0,
          body,
          retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
          writtenAt,
        });
      });
    });
    req.on('error', reject);
    // 'finish': the whole request has been handed to the kernel (sent, as far as this process can tell).
    req.on('finish', () => (writtenAt = Date.now()));
    req.end();
  });
}

if (process.env.LOAD_SPEC && require.main === module) {
  generate(JSON.parse(process.env.LOAD_SPEC) as LoadSpec).then(
    (result) => process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
