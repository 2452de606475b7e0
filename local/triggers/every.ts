// A schedule for the local stand-ins of EventBridge rules: runs `task` every `ms`, never two at once (a
// run still going when the next is due is skipped), and reports a failed run instead of throwing. A run
// that outlives `timeoutMs` is reported and abandoned, as Lambda's function timeout ends an invocation,
// so one stuck run cannot stop the schedule (docs/operations.md#restarts).
export function every(
  ms: number,
  task: () => Promise<void>,
  onError: (err: unknown) => void,
  timeoutMs = 60_000,
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  let startedAt = 0;
  const timer = setInterval(() => {
    if (running && Date.now() - startedAt <= timeoutMs) return;
    if (running) onError(new Error(`run still going after ${timeoutMs} ms; abandoned, starting the next`));
    startedAt = Date.now();
    const run: Promise<void> = task()
      .catch(onError)
      .finally(() => {
        if (running === run) running = undefined;
      });
    running = run;
  }, ms);
  return {
    async stop() {
      clearInterval(timer);
      // A stuck run is not waited for past a few seconds: stopping must not hang on it.
      await Promise.race([running, new Promise((r) => setTimeout(r, 5_000).unref())]);
    },
  };
}
