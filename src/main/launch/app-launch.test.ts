import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILD_OUTPUTS, buildNeeded, chooseFrontEnd, findElectronBinary, hasDisplay } from './app-launch';

let root: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-launch-'));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function touch(relative: string, seconds: number): Promise<void> {
  const file = path.join(root, relative);
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, 'x');
  await fs.utimes(file, seconds, seconds);
}

describe('finding the Electron binary without downloading it', () => {
  it('is undefined when electron has no path.txt or the binary is not there', async () => {
    const pkg = path.join(root, 'electron');
    await fs.mkdir(pkg);
    expect(findElectronBinary(pkg, {})).toBeUndefined();
    await fs.writeFile(path.join(pkg, 'path.txt'), 'electron');
    expect(findElectronBinary(pkg, {})).toBeUndefined();
  });

  it('is dist/<path.txt> when it exists, or under ELECTRON_OVERRIDE_DIST_PATH', async () => {
    const pkg = path.join(root, 'electron');
    await touch('electron/path.txt', 1);
    await fs.writeFile(path.join(pkg, 'path.txt'), 'electron');
    await touch('electron/dist/electron', 1);
    expect(findElectronBinary(pkg, {})).toBe(path.join(pkg, 'dist', 'electron'));
    await touch('custom/electron', 1);
    expect(findElectronBinary(pkg, { ELECTRON_OVERRIDE_DIST_PATH: path.join(root, 'custom') })).toBe(
      path.join(root, 'custom', 'electron'),
    );
  });
});

describe('choosing the front end', () => {
  it('needs a display on Linux, not on macOS or Windows', () => {
    expect(hasDisplay('linux', {})).toBe(false);
    expect(hasDisplay('linux', { DISPLAY: ':99' })).toBe(true);
    expect(hasDisplay('linux', { WAYLAND_DISPLAY: 'wayland-0' })).toBe(true);
    expect(hasDisplay('darwin', {})).toBe(true);
    expect(hasDisplay('win32', {})).toBe(true);
  });

  it('says in one line why it serves the browser UI instead', () => {
    expect(chooseFrontEnd(undefined, true)).toEqual({
      kind: 'serve',
      reason:
        'pollard: no Electron binary (it downloads on first launch, which needs the network); starting the browser UI instead',
    });
    expect(chooseFrontEnd('/e/electron', false)).toEqual({
      kind: 'serve',
      reason: 'pollard: no display (DISPLAY and WAYLAND_DISPLAY are unset); starting the browser UI instead',
    });
    expect(chooseFrontEnd('/e/electron', true)).toEqual({ kind: 'electron', binary: '/e/electron' });
  });
});

describe('deciding whether to build', () => {
  it('builds when an output is missing or an input is newer than the oldest output', async () => {
    expect(await buildNeeded(root)).toBe('out/renderer/index.html is missing');
    for (const output of BUILD_OUTPUTS) await touch(output, 2_000);
    await touch('src/main/x.ts', 1_000);
    await touch('package.json', 1_000);
    // Folder times count too (a deleted source file changes its folder's time).
    for (const dir of ['src/main', 'src']) await fs.utimes(path.join(root, dir), 1_000, 1_000);
    expect(await buildNeeded(root)).toBeUndefined();
    await touch('src/main/deep/y.ts', 3_000);
    expect(await buildNeeded(root)).toBe('src changed since the last build');
  });
});
