// Live data without flooding the page: a poll that waits for its answer before the next
// (never two at once), pauses while the tab is hidden, and renders at most every
// `everyMs` (the dashboard's pages update no more than twice a second).
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface Polled<T> {
  data: T | undefined;
  error: Error | undefined;
  /** Ask again now (after an action). */
  refresh: () => void;
}

export function usePoll<T>(load: () => Promise<T>, everyMs: number, deps: unknown[]): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const wake = useRef<() => void>(() => {});
  // Started as soon as the page is in the document, not after its first paint (where
  // useEffect would start it): the first answer is what the first render waits for.
  useLayoutEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setData(undefined);
    const run = async () => {
      timer = undefined;
      try {
        const next = await load();
        if (!stopped) {
          setData(next);
          setError(undefined);
        }
      } catch (e) {
        if (!stopped) setError(e as Error);
      }
      if (!stopped && everyMs > 0) timer = setTimeout(run, document.hidden ? everyMs * 5 : everyMs);
    };
    wake.current = () => {
      if (timer !== undefined) clearTimeout(timer);
      void run();
    };
    void run();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, deps);
  return { data, error, refresh: () => wake.current() };
}

/** Ticks every `everyMs`, for text that ages ("3 s ago"). */
export function useNow(everyMs = 1_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/**
 * How many of a long table's `total` rows to render now: the first screenful at once, the
 * rest in the task after it, so a page of 1,000 rows shows in the time of 100 and fills in
 * below (creating 1,000 rows' elements takes this machine ~300 ms). Once all are shown, a
 * refresh renders all at once.
 */
export function useRowsShown(total: number, first = 100): number {
  const [all, setAll] = useState(false);
  useEffect(() => {
    if (all || total <= first) return;
    // A task, not an animation frame: a tab in the background fills its table in too.
    const timer = setTimeout(() => setAll(true), 0);
    return () => clearTimeout(timer);
  }, [all, total, first]);
  return all ? total : Math.min(first, total);
}
