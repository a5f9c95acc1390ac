import { describe, expect, it } from 'vitest';
import { table } from './format';

describe('table', () => {
  it('right-aligns numeric columns after a left-aligned first column', () => {
    expect(
      table([
        ['', 'before', 'after'],
        ['parameters', '61,706', '24,507'],
        ['MACs', '416,520', '1'],
      ]),
    ).toBe(
      ['             before   after', 'parameters   61,706  24,507', 'MACs        416,520       1', ''].join(
        '\n',
      ),
    );
  });

  it('left-aligns a text table and does not pad its last column', () => {
    expect(
      table(
        [
          ['tensorflow', 'unavailable', 'not installed'],
          ['wasm', 'used', 'WebAssembly SIMD, 1 thread'],
        ],
        'text',
      ),
    ).toBe(
      [
        'tensorflow  unavailable  not installed',
        'wasm        used         WebAssembly SIMD, 1 thread',
        '',
      ].join('\n'),
    );
  });
});
