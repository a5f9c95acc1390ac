import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { throttle } from './throttle';

describe('throttle', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs at once, then at most once per window with the latest state', () => {
    const seen: number[] = [];
    let state = 0;
    const t = throttle(() => seen.push(state), 250);
    state = 1;
    t.schedule();
    expect(seen).toEqual([1]);
    for (state = 2; state <= 50; state++) t.schedule();
    state = 50;
    expect(seen).toEqual([1]);
    vi.advanceTimersByTime(249);
    expect(seen).toEqual([1]);
    vi.advanceTimersByTime(1);
    expect(seen).toEqual([1, 50]);
    t.schedule();
    expect(seen).toEqual([1, 50]);
    t.cancel();
    vi.advanceTimersByTime(1000);
    expect(seen).toEqual([1, 50]);
  });
});
