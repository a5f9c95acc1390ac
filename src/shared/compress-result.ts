/**
 * The compress job's result (also the `compression` of a demo's, and `run.json`'s `result` of a
 * compress run): before and after figures, the per-layer table, the energy figures and what
 * TensorFlow.js realises. See job-results.ts for how the schemas are used.
 */
import { z } from 'zod';
import { COMPRESSION_METHODS, QUANT_DTYPES } from './methods';
import {
  backendNameSchema,
  energyFigureSchema,
  energyStatisticSchema,
  epochMetricsSchema,
} from './result-parts';

/** A nested record that readers pass on or show whole: present and an object, not looked into. */
const detail = z.custom<unknown>(
  (value) => typeof value === 'object' && value !== null,
  'expected an object',
);

const latencyMsSchema = z.object({ batch1: z.number(), batch32: z.number() });
const pairSchema = z.tuple([z.number(), z.number()]);

export const modelRecordSchema = z.object({
  /** Top-1, 0..1, on `evaluation.split`. */
  accuracy: z.number(),
  params: z.number(),
  macs: z.number(),
  sizeBytes: z.number(),
  sizeGzipBytes: z.number(),
  latencyMs: latencyMsSchema,
  weightDtype: z.string(),
});

/** One row per layer with weights, matched by name between the original and the compressed model. */
export const compressLayerRowSchema = z.object({
  name: z.string(),
  className: z.string(),
  outChannelsBefore: z.number(),
  outChannelsAfter: z.number(),
  paramsBefore: z.number(),
  paramsAfter: z.number(),
  macsBefore: z.number(),
  macsAfter: z.number(),
  /** Fraction of zero weights in the compressed layer's kernels (magnitude pruning). */
  sparsity: z.number().optional(),
  /** Stored weight dtype after export, where quantized. */
  dtype: z.string().optional(),
});

const latencyDetailSchema = latencyMsSchema.extend({
  spread: z.object({ batch1: pairSchema, batch32: pairSchema }),
  runs: latencyMsSchema,
});

const sourceInferenceEnergySchema = z.object({
  id: z.string(),
  gross: energyStatisticSchema,
  net: energyStatisticSchema,
});
const modelInferenceEnergySchema = z.object({
  total: sourceInferenceEnergySchema,
  sources: z.array(sourceInferenceEnergySchema),
  seconds: detail,
});

const trainingEnergySideSchema = z.object({
  epochs: z.array(energyFigureSchema),
  perEpoch: energyStatisticSchema,
  detail: z.string(),
  samplesPerEpoch: z.array(z.number().nullable()).optional(),
  warmupExcluded: z.number().optional(),
});

/** Measured training and inference energy (ENERGY.md); the parts the readers show are spelled out. */
export const compressEnergyMeasurementsSchema = z.object({
  version: z.literal(1),
  options: detail,
  backend: z.string(),
  training: z.object({
    original: trainingEnergySideSchema.extend({
      method: z.enum(['baseline-run', 'mini-epochs', 'not-measured']),
    }),
    compressed: trainingEnergySideSchema,
    comparison: detail,
  }),
  inference: z.discriminatedUnion('status', [
    z.object({
      status: z.literal('measured'),
      batchSize: z.number(),
      result: z.object({
        samplesPerRun: z.number(),
        warmupRuns: z.number(),
        repetitions: z.number(),
        idle: detail,
        order: z.array(z.enum(['original', 'compressed'])),
        original: modelInferenceEnergySchema,
        compressed: modelInferenceEnergySchema,
        savings: z.array(detail),
        meterSources: z.array(detail),
      }),
    }),
    z.object({ status: z.literal('unavailable'), reason: z.string() }),
  ]),
  sources: z.array(detail),
  machine: detail,
  carbon: detail,
  notes: z.array(z.string()),
});

const deployedModelSchema = z.object({
  format: z.enum(['float32', 'int8']),
  accuracy: z.number(),
  latencyMs: latencyMsSchema,
  latencySpreadMs: z.object({ batch1: pairSchema, batch32: pairSchema }),
  sizeBytes: z.number(),
});

export const onnxDeploymentSchema = z.object({
  runtime: z.string(),
  evaluation: z.object({ split: z.enum(['test', 'validation']), samples: z.number() }),
  before: deployedModelSchema,
  after: deployedModelSchema,
  speedup: z.object({ batch1: z.number().nullable(), batch32: z.number().nullable() }),
  verdict: z.object({ batch1: z.string(), batch32: z.string() }),
  calibration: z.object({ samples: z.number(), method: z.literal('minmax'), fromQat: z.number() }).optional(),
});

export const compressResultSchema = z.object({
  kind: z.literal('compress'),
  method: z.enum(COMPRESSION_METHODS),
  backend: backendNameSchema,
  device: z.string(),
  runDir: z.string(),
  /** The compressed model's figures at top level, as every `--json` output has them (= `after`). */
  accuracy: z.number(),
  params: z.number(),
  macs: z.number(),
  sizeBytes: z.number(),
  sizeGzipBytes: z.number(),
  /** The exported compressed model (a tfjs layers model folder). */
  modelPath: z.string(),
  evaluation: z.object({ split: z.enum(['test', 'validation']), samples: z.number() }),
  before: modelRecordSchema,
  after: modelRecordSchema,
  /** before − after accuracy, in points (0..100). */
  accuracyDropPoints: z.number(),
  originalBnRecalibratedAccuracy: z.number().optional(),
  layers: z.array(compressLayerRowSchema),
  /** What TensorFlow.js realises from this compression and what it does not. */
  realised: z.array(z.string()),
  notes: z.array(z.string()),
  latency: z.object({ before: latencyDetailSchema, after: latencyDetailSchema }),
  /** Modelled inference energy per 1,000 samples (op-count), and the measured block where measured. */
  energy: z.object({
    before: energyFigureSchema,
    after: energyFigureSchema,
    assumptions: z.array(z.string()),
    measured: compressEnergyMeasurementsSchema.optional(),
  }),
  fineTune: z.array(
    z.object({ stage: z.string(), epochs: z.number(), history: z.array(epochMetricsSchema) }),
  ),
  structured: z
    .object({
      criterion: z.string(),
      scope: z.enum(['global', 'layer']),
      steps: z.array(detail),
      unsupported: z.array(z.object({ name: z.string(), className: z.string(), reason: z.string() })),
      auto: detail.optional(),
    })
    .optional(),
  magnitude: z
    .object({
      sparsity: z.number(),
      scope: z.enum(['global', 'layer']),
      schedule: detail.optional(),
      layers: z.array(
        z.object({
          layer: z.string(),
          weight: z.string(),
          count: z.number(),
          zeros: z.number(),
          sparsity: z.number(),
        }),
      ),
    })
    .optional(),
  onnxRuntime: onnxDeploymentSchema.optional(),
  onnxRuntimeUnavailable: z.string().optional(),
  quantization: z
    .object({
      dtype: z.enum(QUANT_DTYPES),
      granularity: z.enum(['tensor', 'channel']).optional(),
      ptqAccuracy: z.number().optional(),
    })
    .optional(),
});
