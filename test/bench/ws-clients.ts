// The WebSocket subscribers of `npm run bench:ws`, in a process of their own (as real clients are: their
// frame parsing must not run on the exchange's event loop). Opens WS_CLIENTS connections to WS_URL + WS_PATH,
// records for each trade frame its arrival time minus the trade's own time (`T`, the engine's clock, the same
// machine's), counts every frame, and answers the bench over IPC:
//   {type:'report', tradeIds, since}: per-trade delivery and latency for those trades, frames since `since`.
//   {type:'close'}: closes every connection and exits.
import WebSocket from 'ws';

const url = `${process.env.WS_URL}${process.env.WS_PATH ?? '/ws/btcusdt@trade'}`;
const clients = Number(process.env.WS_CLIENTS ?? 100);

/** trade id → arrival delays (ms), one per client that got its frame. */
const delays = new Map<number, number[]>();
/** Frames received, by the second they arrived in (epoch seconds). */
const framesBySecond = new Map<number, number>();
/** Frames received, by event type (`trade`, `depthUpdate`, …). */
const framesByType = new Map<string, number>();
let malformed = 0;

function onFrame(data: WebSocket.RawData): void {
  const now = Date.now();
  const sec = Math.floor(now / 1000);
  framesBySecond.set(sec, (framesBySecond.get(sec) ?? 0) + 1);
  let f: { e?: string; t?: number; T?: number };
  try {
    f = JSON.parse(String(data)) as typeof f;
  } catch {
    malformed++;
    return;
  }
  framesByType.set(String(f.e), (framesByType.get(String(f.e)) ?? 0) + 1);
  if (f.e !== 'trade' || f.t === undefined || f.T === undefined) return;
  const list = delays.get(f.t);
  if (list) list.push(now - f.T);
  else delays.set(f.t, [now - f.T]);
}

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('message', onFrame);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const pct = (sorted: number[], p: number) =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function main(): Promise<void> {
  const sockets: WebSocket[] = [];
  // In waves, as a fleet of clients reconnecting would: a thousand SYNs at once only measure the backlog.
  for (let i = 0; i < clients; i += 50)
    sockets.push(...(await Promise.all(Array.from({ length: Math.min(50, clients - i) }, open))));
  let closed = 0;
  for (const ws of sockets) ws.once('close', () => closed++);
  process.send?.({ type: 'ready', clients: sockets.length });

  process.on('message', (m: { type: string; tradeIds?: number[]; since?: number; until?: number }) => {
    if (m.type === 'report') {
      const all: number[] = [];
      let delivered = 0;
      for (const id of m.tradeIds ?? []) {
        const d = delays.get(id) ?? [];
        delivered += d.length;
        for (const x of d) all.push(x);
      }
      all.sort((a, b) => a - b);
      let frames = 0;
      for (const [sec, n] of framesBySecond)
        if (sec * 1000 >= (m.since ?? 0) && sec * 1000 < (m.until ?? Infinity)) frames += n;
      const cpu = process.cpuUsage();
      process.send?.({
        type: 'report',
        expected: (m.tradeIds?.length ?? 0) * sockets.length,
        delivered,
        p50: pct(all, 50),
        p99: pct(all, 99),
        max: all.length ? all[all.length - 1] : 0,
        frames,
        closedConnections: closed,
        malformed,
        byType: Object.fromEntries(framesByType),
        cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      });
    } else if (m.type === 'close') {
      for (const ws of sockets) ws.close();
      setTimeout(() => process.exit(0), 500);
    }
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
