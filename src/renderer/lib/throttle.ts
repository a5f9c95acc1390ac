/** Rate-limiting for redraws: charts update at most a few times a second, whatever the event rate. */

/**
 * Calls `run` at most once per `ms`, always with the latest state: the first call runs at
 * once, later ones within the window run once at its end.
 */
export function throttle(run: () => void, ms: number): { schedule: () => void; cancel: () => void } {
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return {
    schedule() {
      if (timer) return;
      const wait = last + ms - Date.now();
      if (wait <= 0) {
        last = Date.now();
        run();
        return;
      }
      timer = setTimeout(() => {
        timer = undefined;
        last = Date.now();
        run();
      }, wait);
    },
    cancel() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
