import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeBandsFixture } from './bands-fixture';
import { exploreSpecSchema } from '../../../shared/jobs';
import type { BackendReport } from '../../../shared/types';
import { createMemoryContext } from '../job/context';
import { tf } from '../tf';
import { markPareto, runExplore } from './explore-job';

const BACKEND: BackendReport = { used: 'cpu', device: 'pure JavaScript', rungs: [] };
let root: string;
let dataDir: string;
let modelDir: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-explore-'));
  ({ dataDir, modelDir } = await writeBandsFixture(root, 96));
});

afterAll(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('markPareto', () => {
  it('keeps the points no other point beats on both accuracy and MACs', () => {
    const point = (macs: number, accuracyPruned: number, accuracyFineTuned?: number) => ({
      target: 0,
      params: 0,
      macs,
      macsRemoved: 0,
      paramsRemoved: 0,
      accuracyPruned,
      ...(accuracyFineTuned !== undefined ? { accuracyFineTuned } : {}),
      latencyMs: 1,
    });
    const marked = markPareto([
      point(100, 0.9),
      point(60, 0.9),
      point(40, 0.5, 0.85),
      point(50, 0.8),
      point(20, 0.3),
    ]);
    // 100 MACs at 0.9 is beaten by 60 MACs at 0.9; 50 MACs at 0.8 by 40 MACs at 0.85 (fine-tuned).
    expect(marked.map((p) => p.pareto)).toEqual([false, true, true, false, true]);
  });
});

describe('runExplore', () => {
  it('prunes the original at each target, measures every point, and writes explore.json and .csv', async () => {
    const out = path.join(root, 'explore');
    const spec = exploreSpecSchema.parse({
      kind: 'explore',
      model: modelDir,
      data: dataDir,
      out,
      batchSize: 16,
      targets: [0.6, 0.3],
      finetuneEpochs: 1,
    });
    const ctx = createMemoryContext(BACKEND);
    const result = await runExplore(spec, ctx, { latency: { batchSizes: [32], warmup: 0, runs: 2 } });
    expect(result.points.map((p) => p.target)).toEqual([0, 0.3, 0.6]);
    expect(result.evaluation).toEqual({ split: 'test', samples: 48 });
    const [original, mild, strong] = result.points;
    expect(original).toMatchObject({ macsRemoved: 0, paramsRemoved: 0 });
    expect(original!.accuracyFineTuned).toBe(original!.accuracyPruned);
    expect([original!.params, original!.macs]).toEqual([1_879, 11_678]);
    expect(mild!.macsRemoved).toBeGreaterThanOrEqual(0.3);
    expect(strong!.macsRemoved).toBeGreaterThanOrEqual(0.6);
    expect(strong!.macs).toBeLessThan(mild!.macs);
    for (const p of result.points) {
      expect(p.latencyMs).toBeGreaterThan(0);
      expect(p.accuracyFineTuned).toBeGreaterThanOrEqual(0);
      expect(p.accuracyFineTuned).toBeLessThanOrEqual(1);
    }
    const stages = ctx.events.filter((e) => e.type === 'stage').map((e) => (e as { stage: string }).stage);
    expect(stages).toContain('explore 1/2');
    expect(stages).toContain('explore 2/2');
    const written = JSON.parse(await fs.readFile(path.join(out, 'explore.json'), 'utf8')) as typeof result;
    expect(written.points).toEqual(result.points);
    const csv = (await fs.readFile(path.join(out, 'explore.csv'), 'utf8')).split('\r\n');
    expect(csv[0]).toBe(
      'target,params,macs,macs_removed,params_removed,accuracy_pruned,accuracy_finetuned,latency_ms_batch32,pareto',
    );
    expect(csv[1]!.startsWith('0,1879,11678,0.0000,0.0000,')).toBe(true);
    expect(csv).toHaveLength(5);
  });
});
