import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../tf';
import { registerWasmBackend, wasmDirectory } from './wasm-backend';

const scratch = mkdtempSync(path.join(os.tmpdir(), 'pollard-wasm-'));
const packaged = wasmDirectory({});
const BINARIES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'];

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('wasmDirectory', () => {
  it('is the package dist folder by default', () => {
    expect(packaged).toMatch(/node_modules[\\/]@tensorflow[\\/]tfjs-backend-wasm[\\/]dist$/);
  });

  it('takes POLLARD_WASM_DIR when it holds the binaries', () => {
    const dir = path.join(scratch, 'override');
    mkdirSync(dir);
    for (const name of BINARIES) copyFileSync(path.join(packaged, name), path.join(dir, name));
    expect(wasmDirectory({ POLLARD_WASM_DIR: dir })).toBe(dir);
  });

  it('names the folder and the missing binaries when POLLARD_WASM_DIR lacks them', () => {
    const dir = path.join(scratch, 'empty');
    mkdirSync(dir);
    expect(() => wasmDirectory({ POLLARD_WASM_DIR: dir })).toThrow(
      `POLLARD_WASM_DIR=${dir}: tfjs-backend-wasm.wasm, tfjs-backend-wasm-simd.wasm not found there`,
    );
  });

  it('moves from app.asar to app.asar.unpacked in a packaged app', () => {
    const inside = path.join('node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
    const archived = path.join(scratch, 'resources', 'app.asar', inside);
    const unpacked = path.join(scratch, 'resources', 'app.asar.unpacked', inside);
    expect(wasmDirectory({}, () => archived)).toBe(archived);
    mkdirSync(unpacked, { recursive: true });
    expect(wasmDirectory({}, () => archived)).toBe(unpacked);
  });
});

describe('registerWasmBackend', () => {
  it('fails with the POLLARD_WASM_DIR problem, then loads from the override once it is right', async () => {
    const saved = process.env.POLLARD_WASM_DIR;
    try {
      process.env.POLLARD_WASM_DIR = path.join(scratch, 'missing');
      await expect(registerWasmBackend()).rejects.toThrow(
        `POLLARD_WASM_DIR=${path.join(scratch, 'missing')}: `,
      );
      process.env.POLLARD_WASM_DIR = path.join(scratch, 'override');
      await registerWasmBackend();
      expect(await tf.setBackend('wasm')).toBe(true);
      const grad = tf.grad((x: tf.Tensor) =>
        tf.sum(tf.conv2d(x as tf.Tensor4D, tf.ones([2, 2, 1, 1]), 1, 'valid')),
      );
      expect(Array.from(grad(tf.ones([1, 3, 3, 1])).dataSync())).toEqual([1, 2, 1, 2, 4, 2, 1, 2, 1]);
    } finally {
      if (saved === undefined) delete process.env.POLLARD_WASM_DIR;
      else process.env.POLLARD_WASM_DIR = saved;
    }
  });
});
