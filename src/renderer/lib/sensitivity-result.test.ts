import { describe, expect, it } from 'vitest';
import { sensitivityResultFixture } from '../../shared/testing/result-fixtures';
import { parseSensitivityResult } from './sensitivity-result';

describe('parseSensitivityResult', () => {
  it("zips each group's accuracy list with the ratios and names it by its producers", () => {
    const view = parseSensitivityResult(sensitivityResultFixture());
    expect(view).toEqual({
      ratios: [0.25, 0.5],
      baseline: 0.9,
      curves: [
        { name: 'conv1', accuracy: [0.88, 0.7] },
        { name: 'conv2 + conv3', accuracy: [0.89, 0.85] },
      ],
    });
  });

  it('marks a ratio the job did not measure as null, and names a group without producers by its id', () => {
    const fixture = sensitivityResultFixture();
    const group = { ...fixture.groups[0]!, id: 'g7', producers: [], accuracy: [0.8] };
    const view = parseSensitivityResult({ ...fixture, groups: [group] });
    expect(view.curves).toEqual([{ name: 'g7', accuracy: [0.8, null] }]);
  });

  it('refuses a result without measurements', () => {
    expect(() => parseSensitivityResult(sensitivityResultFixture({ groups: [] }))).toThrow(
      'the sensitivity result has no per-layer measurements',
    );
  });
});
