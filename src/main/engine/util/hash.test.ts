import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256OfPath } from './hash';

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('sha256OfPath', () => {
  it('hashes a file like sha256sum and a folder over its sorted relative paths', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-hash-'));
    await fs.mkdir(path.join(dir, 'sub'));
    await fs.writeFile(path.join(dir, 'b.txt'), 'bee');
    await fs.writeFile(path.join(dir, 'sub', 'a.txt'), 'ay');
    expect(await sha256OfPath(path.join(dir, 'b.txt'))).toBe(sha('bee'));
    expect(await sha256OfPath(dir)).toBe(sha(`b.txt\0${sha('bee')}\nsub/a.txt\0${sha('ay')}\n`));
    await fs.writeFile(path.join(dir, 'sub', 'a.txt'), 'ay!');
    expect(await sha256OfPath(dir)).not.toBe(sha(`b.txt\0${sha('bee')}\nsub/a.txt\0${sha('ay')}\n`));
    await fs.rm(dir, { recursive: true });
  });
});
