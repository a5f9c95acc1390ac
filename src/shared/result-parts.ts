/**
 * Schemas of the plain data that job results are built from (types.ts and jobs.ts hold the same
 * shapes as interfaces; `satisfies` below keeps the two from drifting apart).
 */
import { z } from 'zod';
import { INPUT_SCALINGS } from './methods';
import type {
  BackendName,
  DatasetInfo,
  EnergyFigure,
  EnergyLabel,
  EnergyStatistic,
  EvaluationResult,
  ModelSummary,
} from './types';

/** Schema S describes exactly type T: each is assignable to the other. */
type Same<S extends z.ZodType, T> = [z.infer<S>] extends [T] ? ([T] extends [z.infer<S>] ? S : never) : never;
function exactly<T>() {
  return <S extends z.ZodType>(schema: Same<S, T> & S): S => schema;
}

export const backendNameSchema = exactly<BackendName>()(z.enum(['tensorflow', 'webgpu', 'wasm', 'cpu']));

export const energyLabelSchema = exactly<EnergyLabel>()(
  z.enum(['measured:counter', 'measured:sampled', 'modelled:tdp-load', 'modelled:op-count', 'unavailable']),
);

export const energyFigureSchema = exactly<EnergyFigure>()(
  z.object({
    joules: z.number().nullable(),
    label: energyLabelSchema,
    source: z.string(),
    reason: z.string().optional(),
  }),
);

export const energyStatisticSchema = exactly<EnergyStatistic>()(
  z.object({
    label: energyLabelSchema,
    source: z.string(),
    reason: z.string().optional(),
    values: z.array(z.number()),
    median: z.number().nullable(),
    min: z.number().nullable(),
    max: z.number().nullable(),
    q1: z.number().nullable(),
    q3: z.number().nullable(),
  }),
);

/** Live power and energy where measured; figures carry their labels. */
export const liveEnergySchema = z.object({
  watts: z.number().nullable(),
  /** Energy since the job started. */
  total: energyFigureSchema,
});

/** One finished epoch, as the training loop reports it and training.json records it. */
export const epochMetricsSchema = z.object({
  /** 1-based. */
  epoch: z.number(),
  loss: z.number(),
  accuracy: z.number(),
  valLoss: z.number().optional(),
  valAccuracy: z.number().optional(),
  learningRate: z.number(),
  seconds: z.number(),
  samplesPerSecond: z.number(),
  /** Power now and energy since the job started, where a meter runs. */
  energy: liveEnergySchema.optional(),
});

export const evaluationSchema = exactly<EvaluationResult>()(
  z.object({
    count: z.number(),
    loss: z.number(),
    accuracy: z.number(),
    top5: z.number().optional(),
    classNames: z.array(z.string()),
    perClassAccuracy: z.array(z.number()),
    confusion: z.array(z.array(z.number())),
  }),
);

const dimSchema = z.number().nullable();
const splitInfoSchema = z.object({ count: z.number(), perClass: z.array(z.number()) });

export const datasetInfoSchema = exactly<DatasetInfo>()(
  z.object({
    format: z.enum(['idx', 'cifar-10', 'cifar-100', 'image-folder']),
    source: z.string(),
    shape: z.tuple([z.number(), z.number(), z.number()]),
    classNames: z.array(z.string()),
    train: splitInfoSchema,
    test: splitInfoSchema.optional(),
    notes: z.array(z.string()),
  }),
);

export const modelSummarySchema = exactly<ModelSummary>()(
  z.object({
    format: z.enum(['tfjs-layers', 'keras-h5', 'keras-v3', 'keras-weights-h5', 'onnx']),
    source: z.string(),
    name: z.string(),
    inputShape: z.array(dimSchema),
    outputShape: z.array(dimSchema),
    inputs: z.array(z.array(dimSchema)).optional(),
    outputs: z.array(z.array(dimSchema)).optional(),
    classes: z.number(),
    layers: z.array(
      z.object({
        name: z.string(),
        className: z.string(),
        outputShape: z.union([z.array(dimSchema), z.array(z.array(dimSchema))]),
        params: z.number(),
        trainableParams: z.number(),
        macs: z.number(),
        inbound: z.array(z.string()),
      }),
    ),
    params: z.number(),
    trainableParams: z.number(),
    macs: z.number(),
    sizeBytes: z.number(),
    sizeGzipBytes: z.number(),
    weightDtypes: z.array(z.string()),
    classNames: z.array(z.string()).optional(),
    inputScalingGuess: z.object({ scaling: z.enum(INPUT_SCALINGS), reason: z.string() }).optional(),
  }),
);
