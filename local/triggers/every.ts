// A schedule for the local stand-ins of EventBridge rules: runs `task` every `ms`, never two at once (a
// run still going when the next is due is skipped), and reports a failed run instead of throwing.
export function every(
  ms: number,
  task: () => Promise<void>,
  onError: (err: unknown) => void,
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running) return;
    running = task()
      .catch(onError)
      .finally(() => (running = undefined));
  }, ms);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
