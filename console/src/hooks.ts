import { useEffect, useRef } from "preact/hooks";

/**
 * Runs `tick` now and every `ms` while the tab is visible (and at once when it becomes visible
 * again): the live refresh of lists and the open ticket.
 */
export function usePoll(tick: () => void | Promise<void>, ms: number, deps: unknown[]): void {
  const fn = useRef(tick);
  fn.current = tick;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const run = async () => {
      clearTimeout(timer);
      if (stopped) return;
      if (document.visibilityState === "visible") {
        try {
          await fn.current();
        } catch {
          /* the view shows its own error */
        }
      }
      if (!stopped) timer = setTimeout(run, ms);
    };
    const onVisible = () => document.visibilityState === "visible" && void run();
    document.addEventListener("visibilitychange", onVisible);
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, deps);
}
