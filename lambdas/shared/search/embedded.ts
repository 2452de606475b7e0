// The embedded search index: minisearch (full text) over an in-memory map of documents (filters, versions,
// paging). What answers search without OpenSearch: local/standins/search.ts serves it over OpenSearch's
// `_bulk`/`_search`, so the handlers run the same client code locally as in AWS (docs/architecture.md).
// minisearch: maintained, no dependencies, small, and it replaces or discards a document by id, which an
// index written under deterministic ids needs.
import MiniSearch from 'minisearch';
import {
  compareDocs,
  type BulkOutcome,
  type SearchDoc,
  type SearchIndex,
  type SearchQuery,
  type SearchResult,
} from '@contracts/search-documents';

/** minisearch's own tokenizer (space or punctuation), lower-cased as it indexes. */
const tokens = (s: string): string[] =>
  s
    .toLowerCase()
    .split(/[\n\r\p{Z}\p{P}]+/u)
    .filter(Boolean);

/** OpenSearch matches a quoted word as a phrase: its tokens next to each other, in order. */
function hasPhrase(docTokens: string[], phrase: string[]): boolean {
  for (let i = 0; i + phrase.length <= docTokens.length; i++)
    if (phrase.every((t, j) => docTokens[i + j] === t)) return true;
  return false;
}

export class EmbeddedSearchIndex implements SearchIndex {
  private readonly docs = new Map<string, SearchDoc>();
  private readonly text = new MiniSearch<SearchDoc>({ idField: 'id', fields: ['text'], storeFields: [] });

  constructor(initial: Iterable<SearchDoc> = []) {
    for (const d of initial) this.put(d);
  }

  async ensureIndices(): Promise<void> {}

  /** How many documents are held. */
  get size(): number {
    return this.docs.size;
  }

  /** Every document (the stand-in persists them). */
  all(): SearchDoc[] {
    return [...this.docs.values()];
  }

  /** true when written; false when the stored version is the same or newer (nothing changes). */
  put(doc: SearchDoc): boolean {
    const stored = this.docs.get(doc.id);
    if (stored && stored.version >= doc.version) return false;
    if (stored) this.text.replace(doc);
    else this.text.add(doc);
    this.docs.set(doc.id, doc);
    return true;
  }

  async bulkIndex(docs: SearchDoc[]): Promise<BulkOutcome> {
    for (const d of docs) this.put(d);
    return { ok: docs.length, failed: [] };
  }

  async search(q: SearchQuery): Promise<SearchResult> {
    const text = q.text?.trim();
    let candidates: Iterable<SearchDoc>;
    if (text) {
      // Every word (as a phrase), as the OpenSearch client asks with simple_query_string (./dsl.ts).
      const phrases = text.split(/\s+/).map(tokens);
      const ids = this.text.search(text, { combineWith: 'AND' }).map((r) => String(r.id));
      candidates = ids
        .map((id) => this.docs.get(id)!)
        .filter((d) => {
          const docTokens = tokens(d.text);
          return phrases.every((p) => hasPhrase(docTokens, p));
        });
    } else candidates = this.docs.values();
    const matches: SearchDoc[] = [];
    for (const d of candidates) {
      if (q.userId !== undefined && d.userId !== q.userId) continue;
      if (q.kind !== undefined && d.kind !== q.kind) continue;
      if (q.symbol !== undefined && d.symbol !== q.symbol) continue;
      if (q.side !== undefined && d.side !== q.side) continue;
      if (q.status !== undefined && d.status !== q.status) continue;
      if (q.asset !== undefined && !d.assets.includes(q.asset)) continue;
      if (q.startTime !== undefined && d.time < q.startTime) continue;
      if (q.endTime !== undefined && d.time > q.endTime) continue;
      matches.push(d);
    }
    matches.sort(compareDocs);
    return { total: matches.length, hits: matches.slice(q.from, q.from + q.size) };
  }
}
