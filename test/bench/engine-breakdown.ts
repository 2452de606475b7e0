// BENCH_BREAKDOWN=1 npm run bench:engine — where each workload's time goes, per kind of command: every
// `apply` timed with process.hrtime.bigint() (the timer adds about the same to every command, so compare
// between workloads, not with the throughput figures), three runs after one warm-up; and the events each
// workload makes. docs/performance.md uses these tables.
import type { MatchingEngine } from '@engine/core';
import type { Command, EngineEvent } from '@engine/core/types';

/** A command's kind and what it caused: `place GTC`, `place IOC +trades`, `cancel`, `placeList +triggers`, … */
function kindOf(c: Command, out: readonly EngineEvent[]): string {
  let kind: string = c.kind;
  if (c.kind === 'place')
    kind = c.trailingDelta !== undefined ? 'place trailing stop' : `place ${c.timeInForce ?? c.type}`;
  if (out.some((e) => e.type === 'triggered')) kind += ' +triggers';
  else if (out.some((e) => e.type === 'trade')) kind += ' +trades';
  return kind;
}

const RUNS = 3;

type Workload = { prefill: Command[]; commands: Command[] };

/** `primed`: a fresh engine with the workload's resting orders in (engine.bench.ts's primedEngine). */
export function printBreakdown(
  primed: (w: Workload) => { engine: MatchingEngine; out: EngineEvent[] },
  workloads: Array<[name: string, w: Workload]>,
): void {
  for (const [name, w] of workloads) {
    const time = new Map<string, { n: number; ns: number }>();
    const events = new Map<string, number>();
    let total = 0;
    for (let run = 0; run <= RUNS; run++) {
      const { engine, out } = primed(w);
      for (const c of w.commands) {
        out.length = 0;
        const t0 = process.hrtime.bigint();
        engine.apply(c, out);
        const ns = Number(process.hrtime.bigint() - t0);
        if (run === 0) {
          for (const e of out) events.set(e.type, (events.get(e.type) ?? 0) + 1);
          continue; // the warm-up run counts the events
        }
        total += ns;
        const kind = kindOf(c, out);
        const t = time.get(kind) ?? { n: 0, ns: 0 };
        t.n++;
        t.ns += ns;
        time.set(kind, t);
      }
    }
    console.log(`\n${name} workload: ${Math.round(total / RUNS / 1e6)} ms per run (timed), events:`);
    console.log(`  ${[...events].map(([type, n]) => `${type} ${n.toLocaleString('en')}`).join(', ')}`);
    console.log('| command kind | commands | mean ns | ms per run |');
    console.log('|---|---|---|---|');
    for (const [kind, t] of [...time].sort((a, b) => b[1].ns - a[1].ns))
      console.log(
        `| ${kind} | ${(t.n / RUNS).toLocaleString('en')} | ${Math.round(t.ns / t.n).toLocaleString('en')} | ${Math.round(t.ns / RUNS / 1e6)} |`,
      );
  }
}
