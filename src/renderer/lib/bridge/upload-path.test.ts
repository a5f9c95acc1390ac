import { describe, expect, it } from 'vitest';
import { newBatchId, uploadSegments, uploadUrlPath } from './upload-path';

describe('upload paths', () => {
  it('encodes each segment and keeps the folder structure', () => {
    expect(uploadUrlPath('ab'.repeat(16), 'images/T-shirt top/a #1.png')).toBe(
      `/api/upload/${'ab'.repeat(16)}/images/T-shirt%20top/a%20%231.png`,
    );
    expect(uploadSegments('a\\b\\c.bin')).toEqual(['a', 'b', 'c.bin']);
    expect(uploadSegments('./a//b')).toEqual(['a', 'b']);
  });

  it('refuses paths the server must never write', () => {
    expect(() => uploadSegments('../etc/passwd')).toThrow('../etc/passwd: paths with ".." are not uploaded');
    expect(() => uploadSegments('/etc/passwd')).toThrow('/etc/passwd: absolute paths are not uploaded');
    expect(() => uploadSegments('C:\\x.bin')).toThrow('C:\\x.bin: absolute paths are not uploaded');
    expect(() => uploadSegments('a\0b')).toThrow('the file name contains a NUL character');
    expect(() => uploadSegments('a/'.repeat(17) + 'f')).toThrow('nested deeper than 16 folders');
    expect(() => uploadSegments('')).toThrow(': empty file name');
  });

  it('makes 32 hex character batch ids', () => {
    expect(newBatchId((b) => b.fill(0xa5))).toBe('a5'.repeat(16));
    expect(newBatchId()).toMatch(/^[0-9a-f]{32}$/);
    expect(newBatchId()).not.toBe(newBatchId());
  });
});
