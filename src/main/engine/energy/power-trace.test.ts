import { describe, expect, it } from 'vitest';
import { PowerTrace } from './power-trace';

describe('PowerTrace', () => {
  it('integrates with the trapezoid rule and holds the end values outside the samples', () => {
    const trace = new PowerTrace();
    expect(trace.energyBetween(0, 1000)).toBeNull();
    trace.add(1000, 100);
    trace.add(2000, 200); // 150 J over this second
    trace.add(4000, 200); // 400 J over these two
    trace.add(3000, 999); // out of order: dropped
    expect(trace.size).toBe(3);
    expect(trace.energyBetween(1000, 4000)).toBeCloseTo(550, 9);
    // Half-way through the ramp the power is 150 W: (100 + 150) / 2 × 0.5 s.
    expect(trace.energyBetween(1000, 1500)).toBeCloseTo(62.5, 9);
    // Before the first sample 100 W is held, after the last 200 W.
    expect(trace.energyBetween(0, 1000)).toBeCloseTo(100, 9);
    expect(trace.energyBetween(4000, 5500)).toBeCloseTo(300, 9);
    expect(trace.energyBetween(500, 5000)).toBeCloseTo(50 + 550 + 200, 9);
    expect(trace.lastWatts).toBe(200);
  });
});
