import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ARCHITECTURES } from '../src/shared/jobs';
import { buildArchitecture } from '../src/main/engine/model/architectures';
import {
  BENCH_SHAPES,
  type SpeedRow,
  epochPlan,
  formatRatio,
  medianBy,
  padToRgb,
  parseBenchArgs,
  speedNotes,
  speedTable,
  torchUnavailableReason,
} from './training-speed.bench';

const here = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.POLLARD_BENCH_PYTHON ?? '/usr/bin/python3';

function row(
  arch: SpeedRow['arch'],
  threads: number,
  pollard: number,
  torch?: number,
  torchParams = 100,
): SpeedRow {
  return {
    arch,
    threads,
    pollard: {
      arch,
      threads,
      params: 100,
      samplesPerSecond: pollard,
      device: 'wasm: WebAssembly SIMD',
      peakRssMiB: 300,
      steps: 10,
      seconds: 10,
      setupSeconds: 0.5,
    },
    ...(torch === undefined
      ? {}
      : {
          torch: { arch, threads, params: torchParams, samplesPerSecond: torch, steps: 20, seconds: 10 },
          ratio: pollard / torch,
        }),
  };
}

describe('parseBenchArgs', () => {
  it('defaults to every architecture, 1 thread and every core, 10 s per measurement', () => {
    expect(parseBenchArgs([], 2)).toEqual({
      archs: [...ARCHITECTURES],
      threads: [1, 2],
      seconds: 10,
      rounds: 1,
      json: false,
      torchDevice: 'cpu',
    });
    // One core: a single thread count, not [1, 1].
    expect(parseBenchArgs([], 1).threads).toEqual([1]);
  });

  it('reads --archs, --threads, --steps, --seconds and --json', () => {
    expect(
      parseBenchArgs(['--archs', 'resnet20,lenet', '--threads', '4,1', '--steps', '5', '--json'], 2),
    ).toEqual({
      archs: ['resnet20', 'lenet'],
      threads: [1, 4],
      steps: 5,
      seconds: 10,
      rounds: 1,
      json: true,
      torchDevice: 'cpu',
    });
    expect(parseBenchArgs(['--seconds', '2.5'], 2).seconds).toBe(2.5);
    expect(parseBenchArgs(['--rounds', '3'], 2).rounds).toBe(3);
    expect(() => parseBenchArgs(['--rounds', '0'], 2)).toThrow(
      '--rounds: expected a positive integer, got "0"',
    );
  });

  it('a GPU backend has no thread counts and sets PyTorch on CUDA', () => {
    expect(parseBenchArgs(['--backend', 'webgpu'], 16)).toMatchObject({
      backend: 'webgpu',
      threads: [1],
      torchDevice: 'cuda',
    });
    expect(parseBenchArgs(['--backend', 'webgpu', '--torch-device', 'cpu'], 16).torchDevice).toBe('cpu');
    expect(parseBenchArgs(['--backend', 'wasm'], 16)).toMatchObject({ threads: [1, 16], torchDevice: 'cpu' });
    expect(() => parseBenchArgs(['--backend', 'webgpu', '--threads', '2'], 16)).toThrow(
      '--threads: the webgpu backend runs on the GPU; thread counts apply to wasm and cpu',
    );
    expect(() => parseBenchArgs(['--backend', 'metal'], 2)).toThrow(
      '--backend: unknown backend "metal"; choose from tensorflow, webgpu, wasm, cpu',
    );
    expect(() => parseBenchArgs(['--torch-device', 'tpu'], 2)).toThrow(
      '--torch-device: expected cpu or cuda, got "tpu"',
    );
  });

  it('refuses unknown architectures, bad numbers and unknown flags', () => {
    expect(() => parseBenchArgs(['--archs', 'alexnet'], 2)).toThrow('--archs: unknown architecture alexnet');
    expect(() => parseBenchArgs(['--threads', '0'], 2)).toThrow('--threads: expected a positive integer');
    expect(() => parseBenchArgs(['--steps', '1.5'], 2)).toThrow('--steps: expected a positive integer');
    expect(() => parseBenchArgs(['--seconds', '-1'], 2)).toThrow('--seconds');
    expect(() => parseBenchArgs(['--fast'], 2)).toThrow();
  });
});

describe('medianBy', () => {
  it('takes the middle item by key, the lower middle for an even count', () => {
    expect(medianBy([5, 1, 3], (x) => x)).toBe(3);
    expect(medianBy([4, 1, 3, 2], (x) => x)).toBe(2);
    expect(medianBy([{ r: 9 }, { r: 2 }], (x) => x.r)).toEqual({ r: 2 });
    expect(() => medianBy([], (x: number) => x)).toThrow('medianBy: no items');
  });
});

describe('speedTable', () => {
  it('shows both sides, ratios and speed-ups as a markdown table', () => {
    const table = speedTable([
      row('lenet', 1, 1000, 2000),
      { ...row('lenet', 2, 1800, 3000), independentSum: 1900, independentSlowest: 1700 },
    ]);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(
      /^\| arch +\| +params \| Pollard 1 thread \| PyTorch 1 thread \| ratio \| Pollard 2 threads \| PyTorch 2 threads \| ratio \| Pollard 2\/1 speed-up \| PyTorch 2\/1 speed-up \| 2 independent processes \/ 1 \| 2 × slowest \/ 1 \|$/,
    );
    expect(lines[1]).toMatch(/^\|-+\|-+:\|/);
    const cells = lines[2]!.split('|').map((c) => c.trim());
    expect(cells.slice(1, -1)).toEqual([
      'lenet',
      '100',
      '1,000',
      '2,000',
      '0.50×',
      '1,800',
      '3,000',
      '0.60×',
      '1.80×',
      '1.50×',
      '1.90×',
      '1.70×',
    ]);
  });

  it('labels the columns GPU for a GPU backend', () => {
    const gpu = row('resnet20', 1, 900, 3000);
    gpu.pollard.device = 'webgpu: NVIDIA H200';
    expect(speedTable([gpu]).split('\n')[0]).toMatch(
      /^\| arch +\| +params \| Pollard GPU \| PyTorch GPU \| ratio \|$/,
    );
  });

  it('puts dashes where PyTorch is missing and says why', () => {
    const rows = [row('resnet20', 1, 25.04)];
    const cells = speedTable(rows)
      .split('\n')[2]!
      .split('|')
      .map((c) => c.trim());
    expect(cells.slice(1, -1)).toEqual(['resnet20', '100', '25.0', '—', '—']);
    expect(speedNotes(rows, '/usr/bin/python3 cannot import torch (No module named torch)')).toContain(
      'PyTorch columns are "—": /usr/bin/python3 cannot import torch (No module named torch).',
    );
  });

  it('marks a parameter-count mismatch loudly', () => {
    const rows = [row('vgg-small', 1, 50, 100, 99)];
    expect(speedTable(rows)).toContain('**MISMATCH** 100 ≠ 99 (PyTorch)');
    expect(
      speedNotes(rows, undefined).some((n) => n.startsWith('!!! PARAMETER MISMATCH for vgg-small')),
    ).toBe(true);
  });

  it('formats ratios with sensible precision', () => {
    expect(formatRatio(0.0534)).toBe('0.053×');
    expect(formatRatio(1.234)).toBe('1.23×');
    expect(formatRatio(12.6)).toBe('13×');
    expect(formatRatio(Number.NaN)).toBe('—');
  });
});

describe('data layout', () => {
  it('pads 28×28×1 to 32×32×3 with a zero border and the gray value in every channel', () => {
    const images = Uint8Array.from({ length: 2 * 28 * 28 }, (_, i) => (i % 250) + 1);
    const padded = padToRgb({ images, labels: Uint8Array.of(3, 7), count: 2 }, [28, 28, 1], [32, 32, 3]);
    expect(padded.images.length).toBe(2 * 32 * 32 * 3);
    expect(padded.labels).toEqual(Uint8Array.of(3, 7));
    const at = (n: number, y: number, x: number, c: number): number =>
      padded.images[((n * 32 + y) * 32 + x) * 3 + c]!;
    expect([at(0, 0, 0, 0), at(1, 31, 31, 2), at(0, 1, 16, 1)]).toEqual([0, 0, 0]);
    expect([at(1, 2, 2, 0), at(1, 2, 2, 1), at(1, 2, 2, 2)]).toEqual(Array(3).fill(images[28 * 28]));
    expect(at(0, 29, 29, 1)).toBe(images[27 * 28 + 27]);
  });

  it('lays timed steps out as whole epochs of the available samples', () => {
    expect(epochPlan(5, 12_000)).toEqual({ batchesPerEpoch: 5, epochs: 1 });
    expect(epochPlan(400, 12_000)).toEqual({ batchesPerEpoch: 134, epochs: 3 });
    expect(epochPlan(3, 10)).toEqual({ batchesPerEpoch: 1, epochs: 3 });
  });
});

describe('parameter parity with the PyTorch peer', () => {
  const reason = torchUnavailableReason(PYTHON);
  if (reason) console.log(`skipping the PyTorch parity test: ${reason}`);

  it.skipIf(reason !== undefined)('every architecture has the same parameter count in both', () => {
    const out = execFileSync(PYTHON, [path.join(here, 'pytorch_peer.py'), '--params-only'], {
      encoding: 'utf8',
    });
    const torch = Object.fromEntries(
      out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { arch: string; params: number })
        .map((r) => [r.arch, r.params]),
    );
    for (const arch of ARCHITECTURES) {
      const model = buildArchitecture(arch, BENCH_SHAPES[arch], 10, 1);
      expect({ arch, params: torch[arch] }).toEqual({ arch, params: model.countParams() });
      model.dispose();
    }
  });
});
