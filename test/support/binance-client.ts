// A minimal Binance-style REST client for tests and benchmarks: signs exactly as Binance documents
// (HMAC-SHA256 hex of the query string + body, X-MBX-APIKEY header), independently of the server code.
import { createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';

export interface ApiKey {
  apiKey: string;
  secretKey: string;
}

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  /** Lower-cased response header names. */
  headers?: Record<string, string>;
}

const agent = new Agent({ keepAlive: true, maxSockets: 512 });

export function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

export class BinanceTestClient {
  constructor(readonly baseUrl: string) {}

  /** An unsigned call (market data, registration). */
  async public<T = unknown>(
    method: string,
    path: string,
    params: Record<string, string | number> = {},
    body?: unknown,
  ) {
    const qs = new URLSearchParams(stringify(params)).toString();
    return this.raw<T>(
      method,
      `${path}${qs ? `?${qs}` : ''}`,
      body === undefined ? undefined : JSON.stringify(body),
      {
        'content-type': 'application/json',
      },
    );
  }

  /**
   * A signed call. By default the parameters go in the query string (GET/DELETE) or form body (POST), with
   * timestamp added; `tamper` lets a test break the request on purpose.
   */
  async signed<T = unknown>(
    method: string,
    path: string,
    key: ApiKey,
    params: Record<string, string | number | undefined> = {},
    opts: { timestamp?: number; signatureOverride?: string; inBody?: boolean; omitApiKey?: boolean } = {},
  ): Promise<ApiResponse<T>> {
    const all = { ...stringify(params), timestamp: String(opts.timestamp ?? Date.now()) };
    const encoded = new URLSearchParams(all).toString();
    const inBody = opts.inBody ?? method === 'POST';
    const signature = opts.signatureOverride ?? sign(key.secretKey, encoded);
    const headers: Record<string, string> = opts.omitApiKey ? {} : { 'X-MBX-APIKEY': key.apiKey };
    if (inBody) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      return this.raw<T>(method, `${path}?signature=${signature}`, encoded, headers);
    }
    return this.raw<T>(method, `${path}?${encoded}&signature=${signature}`, undefined, headers);
  }

  raw<T = unknown>(
    method: string,
    pathAndQuery: string,
    body?: string,
    headers: Record<string, string> = {},
  ) {
    const url = new URL(pathAndQuery, this.baseUrl);
    return new Promise<ApiResponse<T>>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          agent,
          headers: { ...headers, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // leave as text: the test will say what came back
            }
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers[k] = v;
            resolve({ status: res.statusCode ?? 0, body: parsed as T, headers });
          });
        },
      );
      req.on('error', reject);
      if (body) req.write(body);
      req.end();
    });
  }
}

function stringify(params: Record<string, string | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined) out[k] = String(v);
  return out;
}
