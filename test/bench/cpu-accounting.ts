// CPU time per component of the local exchange during a bench step, read from /proc (Linux): the exchange's
// own process (API, relay), the engine, the stream consumers, each stand-in and PostgreSQL (all its processes).
// On one machine every component shares the same cores, so this is where the pipeline's ceiling shows:
// CPU-ms per accepted order, by component, against the machine's cores × seconds. Elsewhere it reports nothing.
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface ProcessTimes {
  component: string;
  ticks: number;
}

/** The component a process belongs to, from its command line; undefined for processes not ours. */
function componentOf(pid: number, cmdline: string): string | undefined {
  if (pid === process.pid) return 'exchange (API, relay)';
  if (cmdline.startsWith('postgres') || cmdline.includes('/bin/postgres ')) return 'postgresql';
  if (cmdline.includes('DynamoDBLocal.jar')) return 'dynamodb-local';
  if (cmdline.includes('kinesalite-server')) return 'kinesalite';
  if (cmdline.includes('fauxqs-server')) return 'fauxqs (sqs)';
  if (cmdline.includes('engine/service/main')) return 'engine';
  if (cmdline.includes('consumers-main')) return 'consumers';
  if (cmdline.includes('search-server')) return 'search (stand-in)';
  if (cmdline.includes('hardhat')) return 'chain (hardhat)';
  return undefined;
}

function snapshot(): Map<number, ProcessTimes> {
  const out = new Map<number, ProcessTimes>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const component = componentOf(pid, cmdline);
      if (!component) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(pid, { component, ticks: Number(fields[11]) + Number(fields[12]) }); // utime + stime
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

export class CpuAccounting {
  private constructor(
    private readonly before: Map<number, ProcessTimes>,
    private readonly startedAt: number,
  ) {}

  static start(): CpuAccounting {
    return new CpuAccounting(snapshot(), performance.now());
  }

  /** The share of the machine's cores used since start by our processes and `extra` ones. */
  machineShare(extra: Record<string, number> = {}): string {
    let ticks = 0;
    for (const [pid, { ticks: now }] of snapshot()) ticks += now - (this.before.get(pid)?.ticks ?? 0);
    const others = Object.values(extra).reduce((a, b) => a + b, 0);
    const capacityMs = (performance.now() - this.startedAt) * cpus().length;
    return `${Math.round((100 * ((ticks * 1000) / TICKS_PER_SECOND + others)) / capacityMs)} % of ${cpus().length} cores`;
  }

  /**
   * CPU-ms per accepted order by component since start (processes that started meanwhile count from zero),
   * their total, `extra` processes that are not the exchange but share its cores (the load generator reports
   * its own), and the share of the machine's CPU all of them used.
   */
  perOrder(orders: number, extra: Record<string, number> = {}): Record<string, number | string> | undefined {
    const after = snapshot();
    if (after.size === 0) return undefined;
    const ms: Record<string, number> = {};
    for (const [pid, { component, ticks }] of after) {
      const delta = ticks - (this.before.get(pid)?.ticks ?? 0);
      ms[component] = (ms[component] ?? 0) + (delta * 1000) / TICKS_PER_SECOND;
    }
    const per = (v: number) => Math.round((v / Math.max(1, orders)) * 100) / 100;
    const total = Object.values(ms).reduce((a, b) => a + b, 0);
    const out: Record<string, number | string> = {};
    for (const [component, v] of Object.entries(ms).sort((a, b) => b[1] - a[1])) out[component] = per(v);
    out['exchange total'] = per(total);
    for (const [component, v] of Object.entries(extra)) out[component] = per(v);
    out.machine = this.machineShare(extra);
    return out;
  }
}
