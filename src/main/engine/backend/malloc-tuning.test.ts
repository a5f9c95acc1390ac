import { describe, expect, it } from 'vitest';
import { tuneMallocForNativeKernels } from './malloc-tuning';

describe('tuneMallocForNativeKernels', () => {
  it.runIf(process.platform === 'linux')('applies mallopt once on Linux with glibc', () => {
    const first = tuneMallocForNativeKernels();
    expect(first).toEqual({ applied: true });
    expect(tuneMallocForNativeKernels()).toBe(first);
  });

  it.runIf(process.platform === 'linux')(
    'keeps a freed 16 MB block for the next one (no new page faults)',
    () => {
      tuneMallocForNativeKernels();
      const size = 16 << 20;
      // Touch every page of a block, free it, then take and touch one of the same size.
      const touch = (): number => {
        const before = process.resourceUsage().minorPageFault;
        const block = Buffer.allocUnsafeSlow(size);
        block.fill(1);
        return process.resourceUsage().minorPageFault - before;
      };
      touch();
      const faults = Math.min(touch(), touch(), touch());
      // 4,096 pages fault when every block comes from fresh mmap pages (measured without the settings).
      expect(faults).toBeLessThan(1024);
    },
  );
});
