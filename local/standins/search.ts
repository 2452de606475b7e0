// A small OpenSearch stand-in: the embedded index (lambdas/shared/search/embedded.ts, minisearch) behind the
// subset of OpenSearch's REST API Cirrus calls: `PUT /<index>` (create with mappings), `POST /_bulk`
// (`index` actions with external versions: 201 written, 409 when the stored version is the same or newer),
// `POST /<indices>/_search` (the body of lambdas/shared/search/dsl.ts; anything else is a 400
// parsing_exception). The indexer and the API then run the same OpenSearch client locally as in AWS.
// Request signatures are not checked. Documents are kept in an append-only journal in the local data dir
// (./search-journal.ts).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { queryFromBody } from '@lambdas/shared/search/dsl';
import { EmbeddedSearchIndex } from '@lambdas/shared/search/embedded';
import { DOC_KINDS, INDEX_OF, searchDocSchema, type SearchDoc } from '@contracts/search-documents';
import { claimPort, type Standin } from './ports';
import { SearchJournal } from './search-journal';

const KNOWN_INDICES = new Set(DOC_KINDS.map((k) => INDEX_OF[k]));
const INDEX_NAME = /^[a-z0-9][a-z0-9_.-]{0,254}$/;

const actionSchema = z.object({
  index: z
    .object({
      _index: z.string(),
      _id: z.string().min(1),
      version: z.number().int().nonnegative(),
      version_type: z.literal('external'),
    })
    .strict(),
});

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    reason: string,
  ) {
    super(reason);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'parsing_exception', 'request body is not JSON');
  }
}

export interface SearchStandin extends Standin {
  /** The documents held (tests). */
  documents(): SearchDoc[];
}

export async function startSearch(opts: {
  port: number;
  /** The journal (./search-journal.ts); none keeps the documents in memory only. */
  stateFile?: string;
  /** The single-snapshot file of older versions, read when there is no journal yet. */
  legacyStateFile?: string;
}): Promise<SearchStandin> {
  const port = await claimPort(opts.port, 'search stand-in');
  const journal = opts.stateFile ? new SearchJournal(opts.stateFile, opts.legacyStateFile) : undefined;
  const saved = journal?.load() ?? { indices: [], documents: [] };
  const indices = new Set(saved.indices);
  const index = new EmbeddedSearchIndex(saved.documents);
  const snapshot = () => ({ indices: [...indices], documents: index.all() });
  journal?.compactIfLarge(index.size, snapshot);

  // Appended at most once a second, and on stop (a crash loses at most that second; the indexer's
  // checkpoints are behind it anyway only by what it had not yet written).
  const save = () => journal?.flush(index.size, snapshot);
  const timer = setInterval(save, 1_000);
  timer.unref();

  const createIndex = (name: string, body: string) => {
    if (!INDEX_NAME.test(name))
      throw new HttpError(400, 'invalid_index_name_exception', `invalid index [${name}]`);
    if (indices.has(name))
      throw new HttpError(400, 'resource_already_exists_exception', `index [${name}] already exists`);
    const mapping = z.object({ mappings: z.object({ properties: z.record(z.string(), z.unknown()) }) });
    if (!mapping.safeParse(parseJson(body)).success)
      throw new HttpError(400, 'mapper_parsing_exception', 'explicit mappings expected');
    indices.add(name);
    journal?.indexCreated(name);
    return { acknowledged: true, shards_acknowledged: true, index: name };
  };

  const bulk = (body: string) => {
    const lines = body.split('\n').filter((l) => l.trim() !== '');
    if (lines.length % 2 !== 0)
      throw new HttpError(400, 'illegal_argument_exception', 'action without a source');
    const items: unknown[] = [];
    let errors = false;
    for (let i = 0; i < lines.length; i += 2) {
      const action = actionSchema.safeParse(parseJson(lines[i]));
      if (!action.success)
        throw new HttpError(400, 'illegal_argument_exception', `unsupported bulk action: ${lines[i]}`);
      const { _index, _id } = action.data.index;
      const fail = (status: number, type: string, reason: string) => {
        errors = true;
        items.push({ index: { _index, _id, status, error: { type, reason } } });
      };
      if (!indices.has(_index)) {
        fail(404, 'index_not_found_exception', `no such index [${_index}]`);
        continue;
      }
      const doc = searchDocSchema.safeParse(parseJson(lines[i + 1]));
      if (!doc.success || doc.data.id !== _id || INDEX_OF[doc.data.kind] !== _index) {
        fail(400, 'strict_dynamic_mapping_exception', `document [${_id}] does not match the mapping`);
        continue;
      }
      const version = action.data.index.version;
      const stored: SearchDoc = { ...(doc.data as SearchDoc), version };
      if (!index.put(stored)) {
        fail(409, 'version_conflict_engine_exception', `[${_id}]: version conflict`);
        continue;
      }
      journal?.written(stored);
      items.push({ index: { _index, _id, _version: version, status: 201, result: 'created' } });
    }
    // 409s are reported as errors, as OpenSearch does: the client decides they are replays.
    return { took: 0, errors, items };
  };

  const search = async (names: string, body: string, ignoreUnavailable: boolean) => {
    const wanted = names.split(',').filter((n) => indices.has(n) || !ignoreUnavailable);
    for (const n of wanted)
      if (!indices.has(n)) throw new HttpError(404, 'index_not_found_exception', `no such index [${n}]`);
    let q;
    try {
      q = queryFromBody(parseJson(body));
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(400, 'parsing_exception', `query outside the stand-in's subset: ${String(err)}`);
    }
    const kinds = DOC_KINDS.filter((k) => wanted.includes(INDEX_OF[k]));
    if (kinds.length === 0 || (q.kind !== undefined && !kinds.includes(q.kind)))
      return { took: 0, timed_out: false, hits: { total: { value: 0, relation: 'eq' }, hits: [] } };
    if (kinds.length === 1) q.kind = kinds[0];
    const result = await index.search(q);
    return {
      took: 0,
      timed_out: false,
      hits: {
        total: { value: result.total, relation: 'eq' },
        hits: result.hits.map((d) => ({ _index: INDEX_OF[d.kind], _id: d.id, _source: d })),
      },
    };
  };

  const route = async (req: IncomingMessage, body: string): Promise<unknown> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const parts = path.split('/').filter(Boolean);
    if (req.method === 'POST' && path === '/_bulk') return bulk(body);
    if (req.method === 'PUT' && parts.length === 1 && KNOWN_INDICES.has(parts[0]))
      return createIndex(parts[0], body);
    if ((req.method === 'POST' || req.method === 'GET') && parts.length === 2 && parts[1] === '_search')
      return search(
        decodeURIComponent(parts[0]),
        body,
        url.searchParams.get('ignore_unavailable') === 'true',
      );
    throw new HttpError(
      400,
      'illegal_argument_exception',
      `${req.method} ${path} is not served by the stand-in`,
    );
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void readBody(req)
      .then((body) => route(req, body))
      .then(
        (out) => [200, out] as const,
        (err: unknown) =>
          err instanceof HttpError
            ? ([err.status, { error: { type: err.type, reason: err.message }, status: err.status }] as const)
            : ([500, { error: { type: 'exception', reason: String(err) }, status: 500 }] as const),
      )
      .then(([status, out]) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
        res.end(JSON.stringify(out));
      });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    documents: () => index.all(),
    async stop() {
      clearInterval(timer);
      save();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
