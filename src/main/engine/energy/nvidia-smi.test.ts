import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findNvidiaSmi, NvidiaSmiSource, parseNvidiaSmiLine, parseNvidiaSmiTimestamp } from './nvidia-smi';

// Output of `nvidia-smi --query-gpu=timestamp,index,power.draw,name --format=csv,noheader,nounits`.
const FIXTURE = [
  '2024/05/01 12:00:00.123, 0, 71.23, NVIDIA GeForce RTX 3090',
  '2024/05/01 12:00:00.124, 1, [N/A], NVIDIA GeForce GT 710',
  '2024/05/01 12:00:00.125, 2, [Not Supported], Tesla K80',
  '2024/05/01 12:00:00.126, 3, 301.5, NVIDIA A100-SXM4-80GB, rev, b',
  '',
  'No devices were found',
].join('\n');

const dir = mkdtempSync(path.join(os.tmpdir(), 'pollard-smi-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in for nvidia-smi: one line per GPU per loop, like the real tool with -lms. */
function fakeSmi(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('nvidia-smi output parsing', () => {
  it('reads samples, keeps unsupported values as null and skips other lines', () => {
    const samples = FIXTURE.split('\n').map(parseNvidiaSmiLine);
    expect(samples).toEqual([
      {
        at: new Date(2024, 4, 1, 12, 0, 0, 123).getTime(),
        index: 0,
        name: 'NVIDIA GeForce RTX 3090',
        watts: 71.23,
      },
      {
        at: new Date(2024, 4, 1, 12, 0, 0, 124).getTime(),
        index: 1,
        name: 'NVIDIA GeForce GT 710',
        watts: null,
        unsupported: '[N/A]',
      },
      {
        at: new Date(2024, 4, 1, 12, 0, 0, 125).getTime(),
        index: 2,
        name: 'Tesla K80',
        watts: null,
        unsupported: '[Not Supported]',
      },
      {
        at: new Date(2024, 4, 1, 12, 0, 0, 126).getTime(),
        index: 3,
        name: 'NVIDIA A100-SXM4-80GB, rev, b',
        watts: 301.5,
      },
      null,
      null,
    ]);
    expect(parseNvidiaSmiTimestamp('2024/13/45 99:00:00')).toBeNull();
    expect(parseNvidiaSmiTimestamp('2024/05/01 12:00:01.5')).toBe(
      new Date(2024, 4, 1, 12, 0, 1, 500).getTime(),
    );
  });

  it('looks for nvidia-smi on PATH only', () => {
    expect(findNvidiaSmi('linux', { PATH: '/nonexistent:/also-missing' })).toBeNull();
    const exe = fakeSmi('nvidia-smi', 'exit 0');
    expect(findNvidiaSmi('linux', { PATH: `/nonexistent:${dir}` })).toBe(exe);
  });
});

describe('nvidia-smi source', () => {
  it('says why when it is absent, fails, or no GPU reports power', async () => {
    expect(await new NvidiaSmiSource({ platform: 'linux', env: { PATH: '/nonexistent' } }).probe()).toEqual({
      ok: false,
      reason: 'nvidia-smi is not on PATH (no NVIDIA driver installed)',
    });
    const broken = fakeSmi(
      'broken-smi',
      'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver."; exit 9',
    );
    expect(await new NvidiaSmiSource({ executable: broken }).probe()).toEqual({
      ok: false,
      reason:
        "broken-smi failed: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.",
    });
    const noPower = fakeSmi('old-smi', 'echo "2024/05/01 12:00:00.000, 0, [Not Supported], Tesla K80"');
    expect(await new NvidiaSmiSource({ executable: noPower }).probe()).toEqual({
      ok: false,
      reason: 'nvidia-smi: power.draw is [Not Supported] on GPU 0 (Tesla K80)',
    });
  });

  it('polls a child process and integrates each GPU (GPUs without power are left out)', async () => {
    const exe = fakeSmi(
      'loop-smi',
      [
        'line() { ts=$(date +"%Y/%m/%d %H:%M:%S.%3N"); echo "$ts, 0, 100.00, GPU A"; echo "$ts, 1, 50.00, GPU B"; echo "$ts, 2, [N/A], GPU C"; }',
        'case "$*" in *-lms*) while true; do line; sleep 0.05; done ;; *) line ;; esac',
      ].join('\n'),
    );
    const source = new NvidiaSmiSource({ executable: exe, intervalMs: 50 });
    expect(await source.probe()).toEqual({
      ok: true,
      detail: 'GPU 0 (GPU A), GPU 1 (GPU B)',
      label: 'measured:sampled',
    });
    const reader = await source.open();
    await reader.settle(Date.now() + 100);
    const start = reader.mark();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const end = reader.mark();
    await reader.settle(end.at);
    const joules = reader.joulesBetween(start, end)!;
    // Constant 150 W: the integral is exact whatever the sample times.
    expect(joules / ((end.at - start.at) / 1000)).toBeCloseTo(150, 6);
    expect(reader.watts()).toBe(150);
    expect(reader.label).toBe('measured:sampled');
    await reader.close();
    expect(reader.failure()).toBeNull();
  });

  it('reports a poller that dies instead of a number', async () => {
    const exe = fakeSmi(
      'dying-smi',
      [
        'ts=$(date +"%Y/%m/%d %H:%M:%S.%3N"); echo "$ts, 0, 80.00, GPU A"',
        'case "$*" in *-lms*) echo "GPU is lost" >&2; exit 15 ;; esac',
      ].join('\n'),
    );
    const reader = await new NvidiaSmiSource({ executable: exe }).open();
    const start = reader.mark();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const end = reader.mark();
    expect(reader.failure()).toBe('nvidia-smi stopped (exit code 15): GPU is lost');
    expect(reader.joulesBetween(start, end)).toBeNull();
    await reader.close();
  });
});
