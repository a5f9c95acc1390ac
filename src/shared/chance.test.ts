import { describe, expect, it } from 'vitest';
import { chanceLevel } from './chance';

describe('chanceLevel', () => {
  it('flags accuracies within 2 points of 1 in N classes', () => {
    expect(chanceLevel(0.091, 10)).toBe(0.1);
    expect(chanceLevel(0.12, 10)).toBe(0.1);
    expect(chanceLevel(0.1201, 10)).toBeUndefined();
    expect(chanceLevel(0.5, 2)).toBe(0.5);
    expect(chanceLevel(0.53, 2)).toBeUndefined();
    expect(chanceLevel(0, 1)).toBeUndefined();
  });
});
