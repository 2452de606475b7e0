// The engine shard as a supervised child process, as ECS runs the Fargate task (docs/operations.md#restarts):
// ready when its health check answers (the container health check), restarted with backoff when it exits
// or stops answering that check, each restart one line on the console. A restarted engine recovers from
// its snapshot and the event stream exactly as a replaced task does in AWS.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { LogRouter } from './logs';
import { stopChild } from './standins/ports';

export interface EngineProcessOptions {
  env: Record<string, string>;
  healthPort: number;
  logs: LogRouter;
  log: (line: string) => void;
  /** First restart delay; doubles per consecutive failure up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Health check cadence and how many misses in a row mean "stuck" (ECS: interval, retries). */
  healthIntervalMs?: number;
  unhealthyAfter?: number;
  /** How long a start (recovery included) may take before it counts as failed. */
  startTimeoutMs?: number;
}

export class EngineProcess {
  private child?: ChildProcess;
  private stopping = false;
  private restarting?: Promise<void>;
  private consecutiveFailures = 0;
  private watchdog?: NodeJS.Timeout;
  /** Restarts after an exit or a failed health check (not the ones asked for). */
  restarts = 0;

  constructor(private readonly opts: EngineProcessOptions) {}

  current(): ChildProcess {
    if (!this.child) throw new Error('engine not started');
    return this.child;
  }

  async start(): Promise<void> {
    this.child = await this.spawnReady();
    this.opts.log(`engine       running (pid ${this.child.pid})`);
  }

  /** A clean stop and start (tests; a config change). */
  async restart(): Promise<void> {
    await this.restarting;
    const child = this.child;
    this.child = undefined;
    if (child) await stopChild(child, 10_000);
    await this.start();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.watchdog);
    await this.restarting?.catch(() => undefined);
    if (this.child) await stopChild(this.child, 10_000);
  }

  private spawnReady(): Promise<ChildProcess> {
    // `node --import tsx`, not the tsx CLI: the CLI runs the script in a grandchild, which a kill -9 of the
    // child would leave running (a second writer on the shard). Here the child is the engine itself.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        // ENGINE_NODE_ARGS: extra node flags for the engine alone (`--cpu-prof`; the bench's counters).
        ...(process.env.ENGINE_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
        join(__dirname, '..', 'engine', 'service', 'main.ts'),
      ],
      {
        env: {
          ...process.env,
          ...this.opts.env,
          HEALTH_PORT: String(this.opts.healthPort),
          // Same young-generation size as the Fargate task (engine/Dockerfile).
          NODE_OPTIONS: [process.env.NODE_OPTIONS, '--max-semi-space-size=64'].filter(Boolean).join(' '),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.opts.logs.pipe('engine', child.stdout);
    this.opts.logs.pipe('engine', child.stderr, true);
    return new Promise<ChildProcess>((resolve, reject) => {
      const deadline = Date.now() + (this.opts.startTimeoutMs ?? 120_000);
      let exited = false;
      child.once('exit', (code, signal) => {
        exited = true;
        reject(new Error(`engine exited (${signal ?? `code ${code}`}) before it was ready`));
      });
      const poll = async () => {
        while (!exited) {
          if (await this.healthy()) {
            child.removeAllListeners('exit');
            child.once('exit', (code, signal) => this.onExit(child, code, signal));
            this.startWatchdog(child);
            return resolve(child);
          }
          if (Date.now() > deadline) {
            child.kill('SIGKILL');
            return; // the exit listener rejects
          }
          await sleep(100);
        }
      };
      void poll();
    });
  }

  private async healthy(): Promise<boolean> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.opts.healthPort}/health`, {
        signal: AbortSignal.timeout(1_000),
      });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }

  private startWatchdog(child: ChildProcess): void {
    clearInterval(this.watchdog);
    let misses = 0;
    let checking = false;
    const startedAt = Date.now();
    this.watchdog = setInterval(() => {
      if (checking || this.child !== child) return;
      checking = true;
      void this.healthy().then((ok) => {
        checking = false;
        if (this.child !== child || this.stopping) return;
        // A run that stayed healthy a while clears the backoff, as a task that ran long enough does.
        if (ok && Date.now() - startedAt > 30_000) this.consecutiveFailures = 0;
        misses = ok ? 0 : misses + 1;
        if (misses >= (this.opts.unhealthyAfter ?? 5)) {
          this.opts.log(`engine       not answering its health check ${misses} times in a row; killing it`);
          child.kill('SIGKILL');
        }
      });
    }, this.opts.healthIntervalMs ?? 1_000);
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping || this.child !== child) return; // asked for: stop() or restart()
    clearInterval(this.watchdog);
    this.child = undefined;
    this.restarting = this.restartAfterCrash(signal ?? `code ${code}`).finally(
      () => (this.restarting = undefined),
    );
  }

  private async restartAfterCrash(why: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const delay = Math.min(
        (this.opts.initialBackoffMs ?? 1_000) * 2 ** this.consecutiveFailures,
        this.opts.maxBackoffMs ?? 30_000,
      );
      this.consecutiveFailures++;
      const what = attempt === 0 ? `exited (${why})` : `did not start (${why})`;
      this.opts.log(`engine       ${what}; restarting in ${(delay / 1000).toFixed(1)} s`);
      await sleep(delay);
      if (this.stopping) return;
      try {
        const started = Date.now();
        this.child = await this.spawnReady();
        this.restarts++;
        this.opts.log(
          `engine       restarted (pid ${this.child.pid}, recovered in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
        );
        return;
      } catch (err) {
        why = err instanceof Error ? err.message : String(err);
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
