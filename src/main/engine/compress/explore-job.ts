/**
 * The `explore` job: structured pruning at several targets, each pruned from the original and
 * measured — accuracy right after pruning (BN statistics re-estimated), optionally after a brief
 * fine-tuning, and latency at batch 32 measured alternately with the original — so a user picks a
 * point on the accuracy / MACs / latency curve before committing to one compress run (the EON
 * Tuner's and Sparsify's "explore" step). Writes <out>/explore.json and explore.csv.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ExplorePoint, ExploreResult } from '../../../shared/job-results';
import { compressEnergyOptionsSchema, type ExploreSpec } from '../../../shared/jobs';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic';
import { modelNormalization } from '../data/input-scaling';
import type { JobContext } from '../job/context';
import { openModel } from '../model/registry';
import { requireSingleInputOutput } from '../model/single-io';
import type { LayersModel } from '../tf';
import { countModel } from './compare';
import { buildDependencyGraph } from './graph';
import { computeImportance } from './importance';
import { fineTune, recalibrate, stage } from './job-common';
import {
  accuracyOn,
  calibrationBatch,
  type CompressionData,
  firstSamples,
  prepareCompressionData,
  pruningOptions,
} from './job-data';
import { measureLatency } from './latency';
import { applyPrunePlan, planFromImportance, type PrunePlan } from './pruner';

/** Explore compares points by accuracy and latency; energy is the compress run's to measure. */
const ENERGY_OFF = compressEnergyOptionsSchema.parse({ measure: false, mode: 'off' });

interface Candidate {
  target: number;
  model: LayersModel;
  plan?: PrunePlan;
  accuracyPruned: number;
  accuracyFineTuned?: number;
}

/** The accuracy a point is judged by: after fine-tuning where there was some. */
function accuracyOf(point: Pick<ExplorePoint, 'accuracyPruned' | 'accuracyFineTuned'>): number {
  return point.accuracyFineTuned ?? point.accuracyPruned;
}

/** Marks the points no other point dominates (at least as accurate and at most as many MACs, one strictly). */
export function markPareto<T extends Omit<ExplorePoint, 'pareto'>>(points: T[]): (T & { pareto: boolean })[] {
  return points.map((p) => ({
    ...p,
    pareto: !points.some(
      (q) =>
        q !== p &&
        accuracyOf(q) >= accuracyOf(p) &&
        q.macs <= p.macs &&
        (accuracyOf(q) > accuracyOf(p) || q.macs < p.macs),
    ),
  }));
}

async function prepare(
  spec: ExploreSpec,
  model: LayersModel,
  stored: Parameters<typeof modelNormalization>[1],
) {
  return prepareCompressionData(spec.data, model, {
    ...(spec.limit !== undefined ? { limit: spec.limit } : {}),
    validationSplit: spec.training.validationSplit,
    seed: spec.seed,
    ...modelNormalization(spec.inputScaling, stored),
  });
}

async function prunedCandidates(
  original: LayersModel,
  data: CompressionData,
  spec: ExploreSpec,
  ctx: JobContext,
  notes: string[],
): Promise<Candidate[]> {
  const calibration = spec.criterion === 'taylor' ? calibrationBatch(data, 256, spec.seed) : undefined;
  const evaluation = firstSamples(data.evaluation, spec.samples);
  const options = {
    ...pruningOptions(spec),
    seed: spec.seed,
    ...(calibration ? { calibration } : {}),
  };
  const candidates: Candidate[] = [];
  try {
    const graph = buildDependencyGraph(original, { ignoredLayers: spec.ignoredLayers });
    const importance = await computeImportance(graph, options);
    notes.push(...importance.notes);
    const targets = [...new Set(spec.targets)].sort((a, b) => a - b);
    for (const [i, target] of targets.entries()) {
      stage(
        ctx,
        `explore ${i + 1}/${targets.length}`,
        `${Math.round(target * 100)}% fewer ${spec.by === 'macs' ? 'MACs' : 'parameters'}`,
      );
      let plan: PrunePlan;
      try {
        plan = planFromImportance(graph, importance, {
          ...options,
          target: { metric: spec.by, fraction: target },
        });
      } catch (error) {
        notes.push(`${Math.round(target * 100)}%: ${error instanceof Error ? error.message : String(error)}`);
        break;
      }
      const model = await applyPrunePlan(original, plan);
      await recalibrate(model, data, spec.seed, ctx);
      const candidate: Candidate = {
        target,
        model,
        plan,
        accuracyPruned: await accuracyOn(model, evaluation, data, spec.batchSize, ctx),
      };
      candidates.push(candidate);
      if (spec.finetuneEpochs > 0) {
        await fineTune(
          model,
          data,
          { ...spec, resume: false, energy: ENERGY_OFF },
          ctx,
          `fine-tune ${i + 1}`,
          undefined,
          `explore-${i + 1}`,
        );
        candidate.accuracyFineTuned = await accuracyOn(model, evaluation, data, spec.batchSize, ctx);
      }
    }
    return candidates;
  } catch (error) {
    for (const c of candidates) c.model.dispose();
    throw error;
  } finally {
    calibration?.x.dispose();
  }
}

function csvOf(points: ExplorePoint[]): string {
  const header =
    'target,params,macs,macs_removed,params_removed,accuracy_pruned,accuracy_finetuned,latency_ms_batch32,pareto';
  const rows = points.map((p) =>
    [
      p.target,
      p.params,
      p.macs,
      p.macsRemoved.toFixed(4),
      p.paramsRemoved.toFixed(4),
      p.accuracyPruned.toFixed(4),
      p.accuracyFineTuned?.toFixed(4) ?? '',
      p.latencyMs.toFixed(3),
      p.pareto,
    ].join(','),
  );
  return [header, ...rows].join('\r\n') + '\r\n';
}

export async function runExplore(
  spec: ExploreSpec,
  ctx: JobContext,
  options: { latency?: Parameters<typeof measureLatency>[1] } = {},
): Promise<ExploreResult> {
  await fs.mkdir(spec.out, { recursive: true });
  stage(ctx, 'load', spec.model);
  const loaded = await openModel(spec.model);
  const original = loaded.model;
  let candidates: Candidate[] = [];
  try {
    requireSingleInputOutput(original, spec.model);
    const data = await prepare(spec, original, loaded.metadata.normalization);
    const evaluation = firstSamples(data.evaluation, spec.samples);
    stage(ctx, 'evaluate-before', `${evaluation.count} ${data.evaluationSplit} samples`);
    const baseline: Candidate = {
      target: 0,
      model: original,
      accuracyPruned: await accuracyOn(original, evaluation, data, spec.batchSize, ctx),
    };
    const notes: string[] = [];
    candidates = await prunedCandidates(original, data, spec, ctx, notes);
    stage(ctx, 'latency', `batch 32, ${candidates.length + 1} models measured alternately`);
    const all = [baseline, ...candidates];
    const latency = await measureLatency(
      all.map((c) => c.model),
      options.latency ?? { batchSizes: [32], warmup: 1, runs: 7, maxSeconds: 20 },
    );
    const before = countModel(original);
    const points = markPareto(
      all.map((c, i) => {
        const totals = c.plan?.totals;
        const params = totals?.paramsAfter ?? before.params;
        const macs = totals?.macsAfter ?? before.macs;
        return {
          target: c.target,
          params,
          macs,
          macsRemoved: totals ? 1 - totals.macsAfter / totals.macsBefore : 0,
          paramsRemoved: totals ? 1 - totals.paramsAfter / totals.paramsBefore : 0,
          accuracyPruned: c.accuracyPruned,
          ...(c.accuracyFineTuned !== undefined
            ? { accuracyFineTuned: c.accuracyFineTuned }
            : spec.finetuneEpochs > 0 && c.target === 0
              ? { accuracyFineTuned: c.accuracyPruned }
              : {}),
          latencyMs: latency[i]!.batch32,
        };
      }),
    );
    const files = { json: path.join(spec.out, 'explore.json'), csv: path.join(spec.out, 'explore.csv') };
    const result: ExploreResult = {
      kind: 'explore',
      runDir: spec.out,
      by: spec.by,
      criterion: spec.criterion,
      finetuneEpochs: spec.finetuneEpochs,
      evaluation: { split: data.evaluationSplit, samples: evaluation.count },
      points,
      notes,
      files,
    };
    await writeJsonAtomic(files.json, result);
    await writeFileAtomic(files.csv, csvOf(points));
    return result;
  } finally {
    for (const c of candidates) c.model.dispose();
    original.dispose();
  }
}
