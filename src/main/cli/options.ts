/**
 * What every `pollard` command shares: argument parsers (each failure is one line naming the
 * flag), the common options, the spec defaults shown in `--help`, and spec validation that
 * names the flag a user typed.
 */
import path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { ZodError } from 'zod';
import { PollardError } from '../../shared/errors';
import {
  baselineTrainingOptionsSchema,
  commonOptionsSchema,
  compressSpecSchema,
  INPUT_SCALINGS,
  jobSpecSchema,
  type JobSpec,
  type JobSpecInput,
  QUANT_DTYPES,
  REPORT_FORMATS,
} from '../../shared/jobs';
import { BACKEND_CHOICES } from '../../shared/types';

export interface CommonFlags {
  backend: string;
  seed?: number;
  batchSize?: number;
  threads?: number;
  limit?: number;
  cpuWatts?: number;
  verbose?: boolean;
  json?: boolean;
}

/** Builds a command's job spec from its arguments; `action` in main.ts runs it. */
export type Action = (...args: never[]) => Promise<JobSpec>;
export type ActionOf = (build: Action) => (...args: unknown[]) => Promise<void>;

// ---- argument parsers ----------------------------------------------------------------------

export function integer(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}.`);
    return n;
  };
}

export function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n >= 1)
    throw new InvalidArgumentError('expected a number between 0 and 1 (exclusive).');
  return n;
}

export function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number.');
  return n;
}

export function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number ≥ 0.');
  return n;
}

export const absolute = (p: string): string => path.resolve(p);

/** `html,pdf` or repeated `--format`: a list of known formats without repeats. */
export function reportFormats(value: string, previous: string[] | undefined): string[] {
  const formats = value
    .split(',')
    .map((format) => format.trim().toLowerCase())
    .filter(Boolean);
  const unknown = formats.find((format) => !(REPORT_FORMATS as readonly string[]).includes(format));
  if (unknown !== undefined || formats.length === 0) {
    throw new InvalidArgumentError(
      `expected ${REPORT_FORMATS.join(', ')} (comma-separated), got "${value}".`,
    );
  }
  return [...new Set([...(previous ?? []), ...formats])];
}

/** A TensorFlow.js weight dtype; int8 (a common guess) is pointed at uint8 and at the ONNX export. */
export function quantDtype(value: string): string {
  if ((QUANT_DTYPES as readonly string[]).includes(value)) return value;
  const hint =
    value === 'int8'
      ? ' TensorFlow.js stores 8-bit weights as uint8: use --dtype uint8 (or export --format onnx --quantize int8 for int8 compute).'
      : '';
  throw new InvalidArgumentError(`Allowed choices are ${QUANT_DTYPES.join(', ')}.${hint}`);
}

/** How the model's input pixels are scaled (the model file's own, else unit, when absent). */
export function inputScalingOption(): Option {
  return new Option(
    '--input-scaling <mode>',
    "pixels as the model was trained on: unit [0,1], symmetric [-1,1], imagenet (mean/std), caffe (BGR, 0-255 minus mean) (default: the model file's, else unit)",
  ).choices([...INPUT_SCALINGS]);
}

// ---- defaults shown in --help --------------------------------------------------------------

/** The spec defaults, shown in `--help` (flags keep no commander default, so "not given" stays visible). */
export const COMMON_DEFAULTS = commonOptionsSchema.parse({});
export const COMPRESS_DEFAULTS = compressSpecSchema.parse({
  kind: 'compress',
  model: '-',
  data: '-',
  out: '-',
  method: 'quantize',
});
export const TRAIN_DEFAULTS = baselineTrainingOptionsSchema.parse({});

/** `description (default: value)`, as commander prints its own defaults. */
export function withDefault(description: string, value: string | number | boolean): string {
  return `${description} (default: ${String(value)})`;
}

// ---- the common options --------------------------------------------------------------------

export function withCommon(command: Command): Command {
  return command
    .addOption(
      new Option('--backend <name>', 'compute backend').choices(BACKEND_CHOICES as string[]).default('auto'),
    )
    .option('--seed <n>', withDefault('random seed', COMMON_DEFAULTS.seed), integer(0))
    .option('--batch-size <n>', withDefault('batch size', COMMON_DEFAULTS.batchSize), integer(1))
    .option('--threads <n>', 'CPU threads for the wasm and cpu backends (default: every core)', integer(1))
    .option('--limit <n>', 'use only the first N samples of each split (default: all)', integer(1))
    .option(
      '--cpu-watts <W>',
      "this machine's CPU power at full load, for the CPU energy model (default: the TDP table; reported as user-given)",
      positive,
    )
    .option('--json', 'print one JSON object on stdout')
    .option('--verbose', 'more progress detail; stack traces on errors');
}

export function common(flags: CommonFlags): Partial<JobSpecInput> {
  return {
    backend: flags.backend as JobSpec['backend'],
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
    ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize } : {}),
    ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
    ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
    ...(flags.cpuWatts !== undefined ? { cpuWatts: flags.cpuWatts } : {}),
    verbose: flags.verbose ?? false,
  };
}

// ---- validation ----------------------------------------------------------------------------

/** Spec field path → the flag a user typed, for validation messages. */
const FLAG_OF: Record<string, string> = {
  targetMacs: '--target-macs',
  targetParams: '--target-params',
  batchSize: '--batch-size',
  cpuWatts: '--cpu-watts',
  accuracyBudget: '--accuracy-budget',
  finetuneEpochs: '--finetune-epochs',
  'training.epochs': '--epochs',
  'training.learningRate': '--lr',
  'training.validationSplit': '--validation-split',
  'pruneWhileTraining.targetMacs': '--target-macs',
  'pruneWhileTraining.targetParams': '--target-params',
  'pruneWhileTraining.bnL1': '--bn-l1',
  'pruneWhileTraining.maskThreshold': '--mask-threshold',
  'pruneWhileTraining.stableEpochs': '--stable-epochs',
  'pruneWhileTraining.pruneAtEpoch': '--prune-at-epoch',
  'pruneWhileTraining.pruneSteps': '--prune-steps',
  'pruneWhileTraining.roundTo': '--round-to',
};

function describeZodError(error: ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid arguments';
  const key = issue.path.join('.');
  const flag =
    FLAG_OF[key] ?? `--${key.replace(/^training\./, '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  return `${flag}: ${issue.message}`;
}

export function parseSpec(input: JobSpecInput): JobSpec {
  const parsed = jobSpecSchema.safeParse(input);
  if (!parsed.success) throw new PollardError('usage', describeZodError(parsed.error));
  return parsed.data;
}
