import { describe, expect, it } from 'vitest';
import { parseSensitivityResult } from './sensitivity-result';

describe('parseSensitivityResult', () => {
  it('zips per-group accuracy lists with the ratios', () => {
    const view = parseSensitivityResult({
      ratios: [0.1, 0.5, 0.9],
      baseline: 0.91,
      groups: [
        { id: 'g0', producers: ['conv2d_1'], accuracies: [0.9, 0.8, 0.2] },
        { id: 'g1', producers: ['conv2d_2', 'conv2d_3'], accuracies: [0.91, 0.9] },
      ],
    });
    expect(view).toEqual({
      ratios: [0.1, 0.5, 0.9],
      baseline: 0.91,
      curves: [
        { name: 'conv2d_1', accuracy: [0.9, 0.8, 0.2] },
        { name: 'conv2d_2 + conv2d_3', accuracy: [0.91, 0.9, null] },
      ],
    });
  });

  it('reads {ratio, accuracy} points and collects the ratios from them', () => {
    const view = parseSensitivityResult({
      layers: [
        {
          name: 'dense_1',
          points: [
            { ratio: 0.5, accuracy: 0.7 },
            { ratio: 0.2, accuracy: 0.85 },
          ],
        },
        { name: 'conv', points: [{ ratio: 0.2, accuracy: 0.6 }] },
      ],
      baseline: { accuracy: 0.88 },
    });
    expect(view.ratios).toEqual([0.2, 0.5]);
    expect(view.baseline).toBe(0.88);
    expect(view.curves).toEqual([
      { name: 'dense_1', accuracy: [0.85, 0.7] },
      { name: 'conv', accuracy: [0.6, null] },
    ]);
  });

  it('refuses a result without measurements', () => {
    expect(() => parseSensitivityResult({ csv: 'x' })).toThrow(
      'the sensitivity result has no per-layer measurements',
    );
  });
});
