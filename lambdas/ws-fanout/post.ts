// Posting frames to connections (ApiGatewayManagementApi), shared by the market and user data fan-outs:
// each connection gets its frames in order, connections in parallel with bounded concurrency, a timeout per
// post; a gone connection (410) is removed, a failed post counted and logged, never thrown.

export interface FanOutStats {
  frames: number;
  posted: number;
  gone: number;
  failed: number;
}

export interface PostDeps {
  /** Posts one frame; rejects with an error named GoneException when the connection is gone. */
  post(connectionId: string, data: string, signal: AbortSignal): Promise<void>;
  removeConnection(connectionId: string): Promise<void>;
  log: { warn(msg: string, extra?: Record<string, unknown>): void };
  /** Connections posted to at once (default 64). */
  concurrency?: number;
  /** A post still running after this is abandoned and counted as failed (default 2000 ms). */
  postTimeoutMs?: number;
}

/** Frames gathered per connection, in the order pushed: what postEach sends. */
export function framesPerConnection(): {
  frames: Map<string, string[]>;
  push(connectionId: string, frame: string): void;
} {
  const frames = new Map<string, string[]>();
  return {
    frames,
    push(connectionId, frame) {
      const list = frames.get(connectionId);
      if (list) list.push(frame);
      else frames.set(connectionId, [frame]);
    },
  };
}

/** Runs `work` over `items` with at most `limit` at once. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]);
  });
  await Promise.all(runners);
}

/** Posts each connection its serialized frames in order; gone connections are removed, failures counted. */
export async function postEach(
  perConnection: Map<string, string[]>,
  deps: PostDeps,
  stats: FanOutStats,
): Promise<void> {
  const timeoutMs = deps.postTimeoutMs ?? 2_000;
  await pool([...perConnection], deps.concurrency ?? 64, async ([connectionId, list]) => {
    for (const data of list) {
      stats.frames++;
      const abort = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          deps.post(connectionId, data, abort.signal),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              abort.abort();
              reject(new Error(`post timed out after ${timeoutMs} ms`));
            }, timeoutMs);
          }),
        ]);
        stats.posted++;
      } catch (err) {
        if ((err as { name?: string }).name === 'GoneException') {
          stats.gone++;
          await deps
            .removeConnection(connectionId)
            .catch((e: unknown) =>
              deps.log.warn('gone connection not removed (TTL will)', { connectionId, err: String(e) }),
            );
          return;
        }
        stats.failed++;
        deps.log.warn('post failed', { connectionId, err: String(err) });
      } finally {
        clearTimeout(timer);
      }
    }
  });
}
