// What `npm start` shows of every component's logs (docs/operations.md#logs): the full JSON lines go to
// .cirrus/logs/<component>.log; warnings and errors also reach the console as one readable line each
// (time, component, level, message, request id). The in-process handlers write through Powertools to
// stdout/stderr as they do in Lambda; the component and request id of a line come from the invocation it
// was written in (AsyncLocalStorage), so the handlers need no local-only code.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export interface Invocation {
  component: string;
  requestId?: string;
}

const invocations = new AsyncLocalStorage<Invocation>();

/** Runs `fn` as an invocation of `component`: what it logs is attributed to it. */
export function runAs<T>(invocation: Invocation, fn: () => T): T {
  return invocations.run(invocation, fn);
}

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'] as const;
const rank = (level: string) => LEVELS.indexOf(level.toUpperCase() as (typeof LEVELS)[number]);

export interface LogRouterOptions {
  /** Where the JSON logs are kept (one file per component); omit to keep none. */
  dir?: string;
  /** Console threshold; WARN by default. */
  consoleLevel?: string;
  /** Writes one readable line to the console. */
  print: (line: string) => void;
}

/** A structured line as Powertools writes it. */
interface LogLine {
  level?: string;
  message?: string;
  timestamp?: string;
  service?: string;
  requestId?: string;
  function_request_id?: string;
  err?: unknown;
  error?: unknown;
  reason?: unknown;
  _aws?: unknown;
}

export class LogRouter {
  private readonly files = new Map<string, WriteStream>();
  private readonly threshold: number;

  constructor(private readonly opts: LogRouterOptions) {
    this.threshold = rank(opts.consoleLevel ?? 'WARN');
    if (opts.dir) mkdirSync(opts.dir, { recursive: true });
  }

  /** One line of output from `component` (a child process's stream, or an in-process invocation). */
  line(component: string, text: string, requestId?: string, fromStderr = false): void {
    if (!text.trim()) return;
    let parsed: LogLine | undefined;
    if (text.startsWith('{')) {
      try {
        parsed = JSON.parse(text) as LogLine;
      } catch {
        parsed = undefined;
      }
    }
    // EMF metric lines are CloudWatch's input, not a log a person reads.
    const file = parsed?._aws !== undefined ? 'metrics' : component;
    this.file(file)?.write(text.endsWith('\n') ? text : `${text}\n`);
    if (parsed?._aws !== undefined) return;
    const level = parsed?.level ?? (fromStderr ? 'WARN' : 'INFO');
    if (rank(level) < this.threshold) return;
    this.opts.print(this.readable(component, level, parsed, text, requestId));
  }

  /** Splits a stream into lines for `component`. */
  pipe(component: string, stream: Readable | null | undefined, fromStderr = false): void {
    if (!stream) return;
    let rest = '';
    stream.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      // Plain text written in one go (a warning, a stack trace) is one console line; the file keeps it all.
      let block: string[] = [];
      const flush = () => {
        if (block.length === 0) return;
        for (const l of block) this.file(component)?.write(`${l}\n`);
        const more = block.slice(1).filter((l) => l.trim()).length;
        const level = fromStderr ? 'WARN' : 'INFO';
        if (rank(level) >= this.threshold) {
          const text = more ? `${block[0]} (+${more} lines in ${component}.log)` : block[0];
          this.opts.print(this.readable(component, level, undefined, text));
        }
        block = [];
      };
      for (const l of lines) {
        if (l.startsWith('{')) {
          flush();
          this.line(component, l, undefined, fromStderr);
        } else if (block.length > 0 || l.trim()) block.push(l);
      }
      flush();
    });
    stream.on('end', () => rest && this.line(component, rest, undefined, fromStderr));
  }

  /**
   * Routes this process's own stdout/stderr lines written inside an invocation (see runAs) or as JSON;
   * other output (the start-up banner) passes through. Returns the undo.
   */
  captureProcess(fallbackComponent: string): () => void {
    const restore: Array<() => void> = [];
    for (const [stream, fromStderr] of [
      [process.stdout, false],
      [process.stderr, true],
    ] as const) {
      const original = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
      let pending = '';
      stream.write = ((chunk: unknown, ...rest: unknown[]) => {
        const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString();
        const inv = invocations.getStore();
        if (!inv && !text.startsWith('{') && !pending) return original(chunk, ...rest);
        const lines = (pending + text).split('\n');
        pending = lines.pop() ?? '';
        for (const l of lines) this.line(inv?.component ?? fallbackComponent, l, inv?.requestId, fromStderr);
        const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
        cb?.();
        return true;
      }) as typeof stream.write;
      restore.push(() => (stream.write = original as typeof stream.write));
    }
    return () => restore.forEach((r) => r());
  }

  async close(): Promise<void> {
    await Promise.all(
      [...this.files.values()].map((f) => new Promise<void>((resolve) => f.end(() => resolve()))),
    );
    this.files.clear();
  }

  private file(component: string): WriteStream | undefined {
    if (!this.opts.dir) return undefined;
    let f = this.files.get(component);
    if (!f) {
      f = createWriteStream(join(this.opts.dir, `${component}.log`), { flags: 'a' });
      this.files.set(component, f);
    }
    return f;
  }

  private readable(
    component: string,
    level: string,
    parsed: LogLine | undefined,
    text: string,
    requestId?: string,
  ): string {
    const time = (parsed?.timestamp ? new Date(parsed.timestamp) : new Date()).toISOString().slice(11, 23);
    const message = parsed ? (parsed.message ?? '') : text;
    const detail = parsed ? (parsed.err ?? parsed.error ?? parsed.reason) : undefined;
    // The first line of a stack is its message; the full stack stays in the log file.
    const why = detail === undefined ? '' : `: ${String(firstLine(detail))}`;
    // The invocation's own id before the logger's function_request_id: locally concurrent invocations share
    // one logger, whose Lambda context is the latest invocation's (lambdas/shared/handler.ts).
    const id = parsed?.requestId ?? requestId ?? parsed?.function_request_id;
    return `${time} ${component.padEnd(14)} ${level.toUpperCase().padEnd(5)} ${message}${why}${id ? ` [request ${String(id)}]` : ''}`;
  }
}

function firstLine(detail: unknown): string {
  const s = typeof detail === 'string' ? detail : JSON.stringify(detail);
  return s.split('\n')[0].slice(0, 300);
}
