// The search stand-in's documents on disk as an append-only journal of JSON lines, so the cost of keeping
// them is the documents written, not the documents held (rewriting every document each second grew with the
// index and took a CPU-second a second from the exchange process after a long run). Lines:
//   {"indices":[…],"documents":[…]}  a snapshot (what compaction writes; also the older documents.json)
//   {"index":"<name>"}                an index created
//   {"doc":{…}}                       a document written (the newest version of an id wins on load)
// A torn last line (a crash mid-append) is skipped. The journal is rewritten as one snapshot when it holds
// more than twice the live documents (plus slack), so it stays O(documents) on disk and compaction O(1)
// per write amortised.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SearchDoc } from '@contracts/search-documents';

const SLACK_LINES = 10_000;

export interface Snapshot {
  indices: string[];
  documents: SearchDoc[];
}

export class SearchJournal {
  private pending: string[] = [];
  /** Lines in the file (a snapshot counts as its documents). */
  private lines = 0;

  /** legacyFile: the single-snapshot file the stand-in wrote before the journal, read when there is no journal. */
  constructor(
    private readonly file: string,
    private readonly legacyFile?: string,
  ) {}

  /** Indices and the newest version of each document, from the journal (empty when there is none). */
  load(): Snapshot {
    const from = existsSync(this.file)
      ? this.file
      : this.legacyFile && existsSync(this.legacyFile)
        ? this.legacyFile
        : undefined;
    if (!from) return { indices: [], documents: [] };
    const indices = new Set<string>();
    const docs = new Map<string, SearchDoc>();
    const keep = (d: SearchDoc) => {
      const stored = docs.get(d.id);
      if (!stored || stored.version < d.version) docs.set(d.id, d);
      this.lines++;
    };
    for (const line of readFileSync(from, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      let entry: Partial<Snapshot> & { index?: string; doc?: SearchDoc };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue; // a torn append
      }
      if (entry.index !== undefined) {
        indices.add(entry.index);
        this.lines++;
      }
      if (entry.doc) keep(entry.doc);
      for (const name of entry.indices ?? []) indices.add(name);
      for (const d of entry.documents ?? []) keep(d);
    }
    // Carried over from the legacy file: the first flush or compaction writes them into the journal.
    if (from !== this.file) this.lines = Number.MAX_SAFE_INTEGER;
    return { indices: [...indices], documents: [...docs.values()] };
  }

  indexCreated(name: string): void {
    this.pending.push(JSON.stringify({ index: name }));
  }

  written(doc: SearchDoc): void {
    this.pending.push(JSON.stringify({ doc }));
  }

  /** Appends what was written since the last flush; compacts when the journal has grown large. */
  flush(live: number, snapshot: () => Snapshot): void {
    if (this.pending.length === 0) return;
    mkdirSync(dirname(this.file), { recursive: true });
    appendFileSync(this.file, `${this.pending.join('\n')}\n`);
    this.lines += this.pending.length;
    this.pending = [];
    this.compactIfLarge(live, snapshot);
  }

  /** Rewrites the journal as one snapshot when it holds more than twice the live documents (plus slack). */
  compactIfLarge(live: number, snapshot: () => Snapshot): boolean {
    if (this.lines <= 2 * live + SLACK_LINES) return false;
    const s = snapshot();
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(s)}\n`);
    renameSync(tmp, this.file);
    this.lines = s.documents.length;
    return true;
  }
}
