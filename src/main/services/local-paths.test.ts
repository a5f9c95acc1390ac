import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveLocalPaths } from './local-paths';

let root: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-paths-'));
  await fs.mkdir(path.join(root, 'model'));
  await fs.writeFile(path.join(root, 'model', 'model.json'), '{}');
  await fs.writeFile(path.join(root, 'model', 'shard.bin'), 'x');
  await fs.mkdir(path.join(root, 'other'));
  await fs.writeFile(path.join(root, 'other', 'a.bin'), 'x');
});
afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('resolveLocalPaths', () => {
  it('keeps one file or one folder as it is', async () => {
    expect(await resolveLocalPaths([path.join(root, 'model', 'model.json')])).toBe(
      path.join(root, 'model', 'model.json'),
    );
    expect(await resolveLocalPaths([path.join(root, 'model')])).toBe(path.join(root, 'model'));
  });

  it('turns several files from one folder into that folder', async () => {
    expect(
      await resolveLocalPaths([
        path.join(root, 'model', 'model.json'),
        path.join(root, 'model', 'shard.bin'),
      ]),
    ).toBe(path.join(root, 'model'));
  });

  it('refuses missing paths, special files, and files from different folders', async () => {
    const missing = path.join(root, 'nope.bin');
    await expect(resolveLocalPaths([missing])).rejects.toThrow(`${missing}: not found`);
    await expect(resolveLocalPaths(['/dev/null'])).rejects.toThrow('/dev/null: not a regular file or folder');
    await expect(
      resolveLocalPaths([path.join(root, 'model', 'model.json'), path.join(root, 'other', 'a.bin')]),
    ).rejects.toThrow(
      'resolveFiles: 2 items from different places; drop one folder, or files from one folder',
    );
  });
});
