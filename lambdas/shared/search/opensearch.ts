// OpenSearch over HTTP, SigV4-signed (service `es`) with the function's credentials: `_bulk` with external
// versions (a replay is answered 409 and changes nothing), `_search` with the body of ./dsl.ts, indices
// created once with explicit mappings. The same code runs locally against local/standins/search.ts.
import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Checksum, SourceData } from '@smithy/types';
import { z } from 'zod';
import { INDEX_MAPPING, indicesFor, searchBody } from './dsl';
import {
  DOC_KINDS,
  INDEX_OF,
  searchDocSchema,
  type BulkOutcome,
  type SearchDoc,
  type SearchIndex,
  type SearchQuery,
  type SearchResult,
} from '@contracts/search-documents';

const toBytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

/** SigV4's hash: SHA-256, or HMAC-SHA-256 when given a secret (node:crypto, as the SDK's own hash-node). */
class Sha256 implements Checksum {
  private hash;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret ? createHmac('sha256', toBytes(this.secret)) : createHash('sha256');
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

export class SearchHttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const errorBody = z.object({ error: z.object({ type: z.string(), reason: z.string().optional() }) });

const bulkResponse = z.object({
  errors: z.boolean(),
  items: z.array(
    z.record(
      z.string(),
      z.object({
        _id: z.string(),
        status: z.number(),
        error: z.object({ type: z.string(), reason: z.string().optional() }).optional(),
      }),
    ),
  ),
});

const searchResponse = z.object({
  hits: z.object({
    total: z.object({ value: z.number() }),
    hits: z.array(z.object({ _source: searchDocSchema })),
  }),
});

export interface OpenSearchOptions {
  /** https://… in AWS, http://127.0.0.1:<port> locally. */
  url: string;
  region?: string;
  /** An IAM role mapped to the read-only `readall` role of fine-grained access control (the API's). */
  readerRoleArn?: string;
}

export class OpenSearchIndex implements SearchIndex {
  private readonly signer: SignatureV4;
  private ensured?: Promise<void>;

  constructor(private readonly opts: OpenSearchOptions) {
    this.signer = new SignatureV4({
      service: 'es',
      region: opts.region ?? process.env.AWS_REGION ?? 'us-east-1',
      sha256: Sha256,
      credentials: async () => ({
        accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '',
        secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '',
        sessionToken: process.env.AWS_SESSION_TOKEN,
      }),
    });
  }

  private async call(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body: string,
    opts: { ndjson?: boolean; query?: Record<string, string> } = {},
  ) {
    const url = new URL(path, this.opts.url);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = {
      host: url.host,
      'content-type': opts.ndjson ? 'application/x-ndjson' : 'application/json',
    };
    const signed = await this.signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: opts.query,
      headers,
      body,
    });
    const res = await fetch(url, {
      method,
      headers: signed.headers,
      body,
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new SearchHttpError(res.status, 'invalid_response', `${method} ${path}: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      const e = errorBody.safeParse(json);
      const type = e.success ? e.data.error.type : 'http_error';
      const reason = e.success ? (e.data.error.reason ?? type) : text.slice(0, 200);
      throw new SearchHttpError(res.status, type, `${method} ${path} (${res.status}): ${reason}`);
    }
    return json;
  }

  ensureIndices(): Promise<void> {
    this.ensured ??= this.createIndices().catch((err: unknown) => {
      this.ensured = undefined;
      throw err;
    });
    return this.ensured;
  }

  private async createIndices(): Promise<void> {
    for (const kind of DOC_KINDS) {
      try {
        await this.call('PUT', `/${INDEX_OF[kind]}`, JSON.stringify(INDEX_MAPPING));
      } catch (err) {
        if (!(err instanceof SearchHttpError && err.type === 'resource_already_exists_exception')) throw err;
      }
    }
    // Fine-grained access control: the API's role reads through the built-in read-only role.
    if (this.opts.readerRoleArn)
      await this.call(
        'PUT',
        '/_plugins/_security/api/rolesmapping/readall',
        JSON.stringify({ backend_roles: [this.opts.readerRoleArn] }),
      );
  }

  async bulkIndex(docs: SearchDoc[]): Promise<BulkOutcome> {
    if (docs.length === 0) return { ok: 0, failed: [] };
    await this.ensureIndices();
    const lines: string[] = [];
    for (const d of docs) {
      lines.push(
        JSON.stringify({
          index: { _index: INDEX_OF[d.kind], _id: d.id, version: d.version, version_type: 'external' },
        }),
        JSON.stringify(d),
      );
    }
    const out = bulkResponse.parse(
      await this.call('POST', '/_bulk', `${lines.join('\n')}\n`, { ndjson: true }),
    );
    const failed: BulkOutcome['failed'] = [];
    for (const item of out.items) {
      const r = Object.values(item)[0];
      // 409: the stored version is the same or newer (a replay, or an older state arriving late).
      if (r.status >= 300 && r.status !== 409)
        failed.push({
          id: r._id,
          reason: `${r.status} ${r.error?.type ?? ''} ${r.error?.reason ?? ''}`.trim(),
        });
    }
    return { ok: docs.length - failed.length, failed };
  }

  async search(q: SearchQuery): Promise<SearchResult> {
    const indices = indicesFor(q.kind).join(',');
    // Before the indexer's first batch the indices do not exist: no hits rather than an error.
    const out = searchResponse.parse(
      await this.call('POST', `/${indices}/_search`, JSON.stringify(searchBody(q)), {
        query: { ignore_unavailable: 'true' },
      }),
    );
    return { total: out.hits.total.value, hits: out.hits.hits.map((h) => h._source as SearchDoc) };
  }
}

let fromEnv: SearchIndex | undefined;

/**
 * The index the handlers use: OpenSearch at OPENSEARCH_URL (the domain in AWS, the stand-in under
 * `npm start`). OPENSEARCH_ENDPOINT is the name the Workers stack gives the indexer.
 */
export function searchIndexFromEnv(): SearchIndex {
  if (fromEnv) return fromEnv;
  const env = z
    .object({
      OPENSEARCH_URL: z.url().optional(),
      OPENSEARCH_ENDPOINT: z.url().optional(),
      SEARCH_READER_ROLE_ARN: z.string().min(1).optional(),
    })
    .parse(process.env);
  const url = env.OPENSEARCH_URL ?? env.OPENSEARCH_ENDPOINT;
  if (!url) throw new Error('environment variable OPENSEARCH_URL is not set');
  fromEnv = new OpenSearchIndex({ url, readerRoleArn: env.SEARCH_READER_ROLE_ARN });
  return fromEnv;
}
