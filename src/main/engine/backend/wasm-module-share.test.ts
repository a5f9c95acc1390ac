/**
 * The tfjs-backend-wasm binary is compiled once and its module kept for replica workers: the
 * wrapped WebAssembly.instantiate turns the package binary's bytes into a module (or takes an
 * adopted one compiled from bytes of the same length), passes every other call through, and
 * removes itself after the first binary.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { adoptTfjsWasmModule, interceptTfjsWasmCompile, sharedTfjsWasmModule } from './wasm-module-share';

/** (module (func (export "f") (result i32) i32.const N)) */
function constantModule(n: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    0x01,
    0x05,
    0x01,
    0x60,
    0x00,
    0x01,
    0x7f,
    0x03,
    0x02,
    0x01,
    0x00,
    0x07,
    0x05,
    0x01,
    0x01,
    0x66,
    0x00,
    0x00,
    0x0a,
    0x06,
    0x01,
    0x04,
    0x00,
    0x41,
    n,
    0x0b,
  ]);
}

/** The same function with a custom section appended, so that its length differs. */
function longerModule(n: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array([...constantModule(n), 0x00, 0x03, 0x01, 0x78, 0x00]);
}

const original = WebAssembly.instantiate;
let dir: string | undefined;

afterEach(async () => {
  WebAssembly.instantiate = original;
  if (dir) await fs.rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function binaryDir(bytes: Uint8Array): Promise<string> {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-wasm-share-'));
  await fs.writeFile(path.join(dir, 'backend.wasm'), bytes);
  return dir;
}

/** WebAssembly.instantiate on bytes, as the wrapper sees it (through the global, wrapped or not). */
function instantiate(bytes: Uint8Array<ArrayBuffer>): Promise<WebAssembly.WebAssemblyInstantiatedSource> {
  return WebAssembly.instantiate(bytes);
}

function call(instance: WebAssembly.Instance): number {
  return (instance.exports.f as () => number)();
}

describe('sharing the tfjs-backend-wasm module', () => {
  it('keeps the module compiled from the package binary, passes other binaries through, then unwraps', async () => {
    interceptTfjsWasmCompile(await binaryDir(constantModule(7)), ['backend.wasm', 'absent.wasm']);
    expect(WebAssembly.instantiate).not.toBe(original);
    const other = await instantiate(longerModule(5));
    expect(call(other.instance)).toBe(5);
    expect(sharedTfjsWasmModule()).toBeUndefined();
    expect(WebAssembly.instantiate).not.toBe(original);

    const result = await instantiate(constantModule(7));
    expect(call(result.instance)).toBe(7);
    expect(sharedTfjsWasmModule()).toEqual({ module: result.module, bytes: 34 });
    expect(WebAssembly.instantiate).toBe(original);
  });

  it('instantiates an adopted module compiled from bytes of the same length instead of compiling', async () => {
    const adopted = await WebAssembly.compile(constantModule(9));
    adoptTfjsWasmModule({ module: adopted, bytes: 34 });
    interceptTfjsWasmCompile(await binaryDir(constantModule(7)), ['backend.wasm']);
    const result = await instantiate(constantModule(7));
    expect(result.module).toBe(adopted);
    expect(call(result.instance)).toBe(9);
    expect(sharedTfjsWasmModule()?.module).toBe(adopted);
  });
});
