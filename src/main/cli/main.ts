/**
 * The `pollard` command line: the headless contract from ARCHITECTURE.md. Every command that
 * touches a model runs as a job in a separate process, exactly as the app does.
 *
 * Output: `--json` prints one JSON object on stdout and nothing else; progress goes to stderr.
 * Errors: one line naming the file and the problem, exit code 1 (2 for usage errors,
 * 130 when cancelled); the stack trace only with `--verbose`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { ZodError } from 'zod';
import { ioError, PollardError, type SerializedError } from '../../shared/errors';
import {
  ARCHITECTURES,
  COMPRESSION_METHODS,
  CRITERIA,
  jobSpecSchema,
  type JobSpec,
  MODEL_FORMATS_OUT,
  ONNX_LAYOUTS,
  EXPORT_QUANT_DTYPES,
  INPUT_SCALINGS,
  CALIBRATION_METHODS,
  commonOptionsSchema,
  compressSpecSchema,
  type JobSpecInput,
  QUANT_DTYPES,
  REPORT_FORMATS,
} from '../../shared/jobs';
import { BACKEND_CHOICES } from '../../shared/types';
import { resumeSpec, runJob } from '../services/jobs';
import { defaultRunsDirectory, SAMPLE_DATASET } from '../util/paths';
import { POLLARD_VERSION } from '../util/version';
import { formatResult } from './format';
import { ProgressPrinter } from './progress';

export const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 130 } as const;

interface CommonFlags {
  backend: string;
  seed?: number;
  batchSize?: number;
  threads?: number;
  limit?: number;
  cpuWatts?: number;
  verbose?: boolean;
  json?: boolean;
}

// ---- argument parsers: each failure is one line naming the flag -----------------------------

function integer(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}.`);
    return n;
  };
}

function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n >= 1)
    throw new InvalidArgumentError('expected a number between 0 and 1 (exclusive).');
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number.');
  return n;
}

function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number ≥ 0.');
  return n;
}

const absolute = (p: string): string => path.resolve(p);

/** `html,pdf` or repeated `--format`: a list of known formats without repeats. */
function reportFormats(value: string, previous: string[] | undefined): string[] {
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

/** The spec defaults, shown in `--help`. */
const COMMON_DEFAULTS = commonOptionsSchema.parse({});
const COMPRESS_DEFAULTS = compressSpecSchema.parse({
  kind: 'compress',
  model: '-',
  data: '-',
  out: '-',
  method: 'quantize',
});

/** A TensorFlow.js weight dtype; int8 (a common guess) is pointed at uint8 and at the ONNX export. */
function quantDtype(value: string): string {
  if ((QUANT_DTYPES as readonly string[]).includes(value)) return value;
  const hint =
    value === 'int8'
      ? ' TensorFlow.js stores 8-bit weights as uint8: use --dtype uint8 (or export --format onnx --quantize int8 for int8 compute).'
      : '';
  throw new InvalidArgumentError(`Allowed choices are ${QUANT_DTYPES.join(', ')}.${hint}`);
}

/** How the model's input pixels are scaled (the model file's own, else unit, when absent). */
function inputScalingOption(): Option {
  return new Option(
    '--input-scaling <mode>',
    "pixels as the model was trained on: unit [0,1], symmetric [-1,1], imagenet (mean/std), caffe (BGR, 0-255 minus mean) (default: the model file's, else unit)",
  ).choices([...INPUT_SCALINGS]);
}

/** The compress flags each method reads; a flag given to a method that ignores it is an error. */
const FLAG_METHODS: [keyof CompressFlags, string, readonly string[]][] = [
  ['targetMacs', '--target-macs', ['structured', 'structured+quantize']],
  ['targetParams', '--target-params', ['structured', 'structured+quantize']],
  ['accuracyBudget', '--accuracy-budget', ['structured', 'structured+quantize']],
  ['sparsity', '--sparsity', ['magnitude']],
  ['dtype', '--dtype', ['quantize', 'qat', 'structured+quantize']],
];

function refuseUnusedFlags(method: string, flags: CompressFlags): void {
  for (const [key, flag, methods] of FLAG_METHODS) {
    if (flags[key] !== undefined && !methods.includes(method)) {
      throw new PollardError(
        'usage',
        `compress --method ${method} does not use ${flag}: it applies to --method ${methods.join(' or ')}`,
      );
    }
  }
}

function withCommon(command: Command): Command {
  return command
    .addOption(
      new Option('--backend <name>', 'compute backend').choices(BACKEND_CHOICES as string[]).default('auto'),
    )
    .option('--seed <n>', `random seed (default: ${COMMON_DEFAULTS.seed})`, integer(0))
    .option('--batch-size <n>', `batch size (default: ${COMMON_DEFAULTS.batchSize})`, integer(1))
    .option('--threads <n>', 'CPU threads for the wasm and cpu backends (default: every core)', integer(1))
    .option('--limit <n>', 'use only the first N samples of each split', integer(1))
    .option(
      '--cpu-watts <W>',
      "this machine's CPU power at full load, for the CPU energy model (instead of the TDP table; reported as user-given)",
      positive,
    )
    .option('--json', 'print one JSON object on stdout')
    .option('--verbose', 'more progress detail; stack traces on errors');
}

function common(flags: CommonFlags): Partial<JobSpecInput> {
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

function parseSpec(input: JobSpecInput): JobSpec {
  const parsed = jobSpecSchema.safeParse(input);
  if (!parsed.success) throw new PollardError('usage', describeZodError(parsed.error));
  return parsed.data;
}

// ---- running a job ------------------------------------------------------------------------

/** A model path that does not exist fails here, before a job process or a run folder exists. */
async function checkModelExists(spec: JobSpec): Promise<void> {
  if (!('model' in spec) || typeof spec.model !== 'string') return;
  try {
    await fs.stat(spec.model);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw ioError(spec.model, 'no such file or folder');
  }
}

async function execute(spec: JobSpec, flags: CommonFlags): Promise<number> {
  await checkModelExists(spec);
  const printer = new ProgressPrinter(process.stderr, flags.verbose ?? false);
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts += 1;
    if (interrupts === 1) {
      process.stderr.write('\ncancelling at the next batch boundary (Ctrl-C again to stop at once)…\n');
      controller.abort();
    } else {
      process.exit(EXIT.cancelled);
    }
  };
  process.on('SIGINT', onSigint);
  try {
    const { outcome } = await runJob(spec, {
      onEvent: (event) => printer.handle(event),
      signal: controller.signal,
      command: ['pollard', ...process.argv.slice(2)],
      graceMs: 15_000,
    });
    printer.end();
    if (outcome.status === 'completed') {
      if (flags.json) process.stdout.write(JSON.stringify(outcome.result) + '\n');
      else process.stdout.write(formatResult(spec, outcome.result));
      return EXIT.ok;
    }
    if (outcome.status === 'cancelled') {
      const out = 'out' in spec ? spec.out : undefined;
      const hint = out && 'resume' in spec ? `; continue with: pollard ${spec.kind} --resume ${out}` : '';
      process.stderr.write(`pollard: cancelled${hint}\n`);
      if (flags.json)
        process.stdout.write(JSON.stringify({ cancelled: true, ...(out ? { runDir: out } : {}) }) + '\n');
      return EXIT.cancelled;
    }
    return reportError(outcome.error, flags);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

function reportError(error: SerializedError, flags: CommonFlags): number {
  process.stderr.write(`pollard: ${error.message.split('\n')[0]}\n`);
  if (flags.verbose && error.stack) process.stderr.write(error.stack + '\n');
  if (flags.json)
    process.stdout.write(
      JSON.stringify({ error: { code: error.code, message: error.message, file: error.file } }) + '\n',
    );
  return error.code === 'usage' ? EXIT.usage : EXIT.failed;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\..*$/, '');
}

// ---- the program --------------------------------------------------------------------------

type Action = (...args: never[]) => Promise<JobSpec>;

export function buildProgram(
  run: (spec: JobSpec, flags: CommonFlags) => Promise<number>,
  setExit: (code: number) => void,
): Command {
  const program = new Command('pollard')
    .description('Make trained neural networks smaller, faster and cheaper to run.')
    .version(POLLARD_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  const action =
    (build: Action) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args[args.length - 1] as Command;
      const flags = command.opts<CommonFlags>();
      const spec = await (build as (...a: unknown[]) => Promise<JobSpec>)(...args);
      setExit(await run(spec, flags));
    };

  withCommon(
    program.command('info').description('backends (used, or why not), devices and energy sources'),
  ).action(
    action(async (flags: CommonFlags) => parseSpec({ kind: 'info', ...common(flags) } as JobSpecInput)),
  );

  withCommon(
    program
      .command('inspect')
      .description('format, input shape, classes, layers, parameters, MACs and size of a model')
      .requiredOption(
        '--model <path>',
        'model folder or file (model.json, .h5, .keras) or a run folder',
        absolute,
      ),
  ).action(
    action(async (flags: CommonFlags & { model: string }) =>
      parseSpec({ kind: 'inspect', model: flags.model, ...common(flags) } as JobSpecInput),
    ),
  );

  withCommon(
    program
      .command('train')
      .description('train a baseline from a built-in architecture')
      .option('--data <path>', 'dataset folder or file', absolute)
      .addOption(new Option('--arch <name>', 'architecture').choices([...ARCHITECTURES]))
      .option('--epochs <n>', 'epochs', integer(1))
      .option('--out <dir>', 'run folder to write', absolute)
      .addOption(new Option('--optimizer <name>', 'optimizer').choices(['adam', 'sgd']))
      .option('--lr <rate>', 'learning rate', positive)
      .option('--momentum <m>', 'SGD momentum', nonNegative)
      .addOption(
        new Option('--schedule <kind>', 'learning-rate schedule').choices(['constant', 'step', 'cosine']),
      )
      .option('--step-epochs <n>', 'step schedule: epochs per step', integer(1))
      .option('--gamma <g>', 'step schedule: factor per step', positive)
      .option('--weight-decay <wd>', 'decoupled weight decay on kernels', nonNegative)
      .option('--early-stopping <patience>', 'stop after N epochs without improvement', integer(1))
      .option('--validation-split <f>', 'fraction of the training split held out', nonNegative)
      .option('--augment', 'random crop with padding and horizontal flip')
      .option('--prune-while-training', 'find the small network early (BN masks stable), prune, train it on')
      .option('--target-macs <f>', 'prune while training: fraction of MACs to remove', fraction)
      .option('--target-params <f>', 'prune while training: fraction of parameters to remove', fraction)
      .option('--bn-l1 <lambda>', 'prune while training: L1 penalty on BN scales (default 1e-4)', nonNegative)
      .option(
        '--mask-threshold <f>',
        'prune while training: masks stable below this distance (0.1)',
        fraction,
      )
      .option('--stable-epochs <n>', 'prune while training: stable epochs that trigger the prune', integer(1))
      .option('--prune-at-epoch <n>', 'prune while training: prune after this epoch', integer(1))
      .option('--prune-steps <n>', 'prune while training: shrink in 1–3 steps (default 1)', integer(1))
      .option(
        '--round-to <n>',
        'prune while training: keep channel counts multiples of N (default 1)',
        integer(1),
      )
      .option('--compare-dense', 'prune while training: also train the dense model and compare')
      .option(
        '--dense-run <dir>',
        'prune while training: compare with this finished dense train run instead',
        absolute,
      )
      .option('--resume <dir>', 'continue an interrupted run from its last checkpoint', absolute),
  ).action(
    action(async (flags: CommonFlags & TrainFlags) => {
      if (flags.resume) return resumeSpec(flags.resume);
      for (const required of ['data', 'arch', 'out'] as const) {
        if (!flags[required])
          throw new PollardError('usage', `train: --${required} is required (or --resume <dir>)`);
      }
      return parseSpec({
        kind: 'train',
        data: flags.data,
        arch: flags.arch,
        out: flags.out,
        training: trainingFlags(flags),
        ...pruneWhileTrainingFlags(flags),
        ...common(flags),
      } as JobSpecInput);
    }),
  );

  withCommon(
    program
      .command('evaluate')
      .description('loss, top-1/top-5 accuracy, per-class accuracy and the confusion matrix')
      .requiredOption('--model <path>', 'model folder or file, or a run folder', absolute)
      .requiredOption('--data <path>', 'dataset folder or file', absolute)
      .addOption(inputScalingOption()),
  ).action(
    action(async (flags: CommonFlags & { model: string; data: string; inputScaling?: string }) =>
      parseSpec({
        kind: 'evaluate',
        model: flags.model,
        data: flags.data,
        ...(flags.inputScaling ? { inputScaling: flags.inputScaling } : {}),
        ...common(flags),
      } as JobSpecInput),
    ),
  );

  withCommon(
    program
      .command('compress')
      .description('prune and/or quantize a model, fine-tune it, and compare before and after')
      .option('--model <path>', 'model folder or file, or a run folder', absolute)
      .option('--data <path>', 'dataset folder or file', absolute)
      .addOption(new Option('--method <method>', 'compression method').choices([...COMPRESSION_METHODS]))
      .option('--target-macs <f>', 'structured: fraction of MACs to remove', fraction)
      .option('--target-params <f>', 'structured: fraction of parameters to remove', fraction)
      .option('--sparsity <f>', 'magnitude: fraction of weights set to zero', fraction)
      .addOption(inputScalingOption())
      .option(
        '--dtype <dtype>',
        `quantization dtype: ${QUANT_DTYPES.join(', ')} (default: ${COMPRESS_DEFAULTS.dtype})`,
        quantDtype,
      )
      .addOption(
        new Option(
          '--criterion <name>',
          `channel importance (default: ${COMPRESS_DEFAULTS.criterion})`,
        ).choices([...CRITERIA]),
      )
      .addOption(
        new Option(
          '--scope <scope>',
          `rank per layer or globally (default: ${COMPRESS_DEFAULTS.scope})`,
        ).choices(['layer', 'global']),
      )
      .option(
        '--round-to <n>',
        `round channel counts to a multiple of N (default: ${COMPRESS_DEFAULTS.roundTo})`,
        integer(1),
      )
      .option(
        '--min-channels <n>',
        `keep at least N channels per layer (default: ${COMPRESS_DEFAULTS.minChannels})`,
        integer(1),
      )
      .option('--ignore <layers>', 'comma-separated layer names never to prune')
      .option(
        '--steps <n>',
        `iterative pruning: N prune + fine-tune steps (default: ${COMPRESS_DEFAULTS.steps})`,
        integer(1),
      )
      .option(
        '--accuracy-budget <points>',
        'automatic mode: at most this many accuracy points lost',
        nonNegative,
      )
      .addOption(
        new Option(
          '--granularity <g>',
          `QAT fake-quant granularity (default: ${COMPRESS_DEFAULTS.granularity})`,
        ).choices(['tensor', 'channel']),
      )
      .option(
        '--finetune-epochs <n>',
        `fine-tuning epochs (default: ${COMPRESS_DEFAULTS.finetuneEpochs})`,
        integer(0),
      )
      .option(
        '--lr <rate>',
        `fine-tuning learning rate (default: ${COMPRESS_DEFAULTS.training.learningRate})`,
        positive,
      )
      .option('--out <dir>', 'run folder to write', absolute)
      .addOption(
        new Option(
          '--energy <mode>',
          'energy measurement: off, quick (no extra training passes; default) or full (also mini-epochs of the original when it has no train run)',
        ).choices(['off', 'quick', 'full']),
      )
      .option('--resume <dir>', 'continue an interrupted run', absolute),
  ).action(
    action(async (flags: CommonFlags & CompressFlags) => {
      if (flags.resume) return resumeSpec(flags.resume);
      for (const required of ['model', 'data', 'method', 'out'] as const) {
        if (!flags[required])
          throw new PollardError('usage', `compress: --${required} is required (or --resume <dir>)`);
      }
      refuseUnusedFlags(flags.method!, flags);
      return parseSpec({
        kind: 'compress',
        model: flags.model,
        data: flags.data,
        out: flags.out,
        method: flags.method,
        ...(flags.targetMacs !== undefined ? { targetMacs: flags.targetMacs } : {}),
        ...(flags.targetParams !== undefined ? { targetParams: flags.targetParams } : {}),
        ...(flags.sparsity !== undefined ? { sparsity: flags.sparsity } : {}),
        ...(flags.dtype ? { dtype: flags.dtype } : {}),
        ...(flags.inputScaling ? { inputScaling: flags.inputScaling } : {}),
        ...(flags.criterion ? { criterion: flags.criterion } : {}),
        ...(flags.scope ? { scope: flags.scope } : {}),
        ...(flags.roundTo !== undefined ? { roundTo: flags.roundTo } : {}),
        ...(flags.minChannels !== undefined ? { minChannels: flags.minChannels } : {}),
        ...(flags.ignore
          ? {
              ignoredLayers: flags.ignore
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
            }
          : {}),
        ...(flags.steps !== undefined ? { steps: flags.steps } : {}),
        ...(flags.accuracyBudget !== undefined ? { accuracyBudget: flags.accuracyBudget } : {}),
        ...(flags.granularity ? { granularity: flags.granularity } : {}),
        ...(flags.finetuneEpochs !== undefined ? { finetuneEpochs: flags.finetuneEpochs } : {}),
        ...(flags.lr !== undefined ? { training: { learningRate: flags.lr } } : {}),
        ...(flags.energy ? { energy: { mode: flags.energy } } : {}),
        ...common(flags),
      } as JobSpecInput);
    }),
  );

  withCommon(
    program
      .command('sensitivity')
      .description('per-layer accuracy when pruned at 10%…90%, without fine-tuning')
      .requiredOption('--model <path>', 'model folder or file, or a run folder', absolute)
      .requiredOption('--data <path>', 'dataset folder or file', absolute)
      .requiredOption('--out <dir>', 'run folder to write', absolute)
      .addOption(new Option('--criterion <name>', 'channel importance').choices([...CRITERIA]))
      .option('--samples <n>', 'validation samples per measurement', integer(1)),
  ).action(
    action(
      async (
        flags: CommonFlags & {
          model: string;
          data: string;
          out: string;
          criterion?: string;
          samples?: number;
        },
      ) =>
        parseSpec({
          kind: 'sensitivity',
          model: flags.model,
          data: flags.data,
          out: flags.out,
          ...(flags.criterion ? { criterion: flags.criterion } : {}),
          ...(flags.samples !== undefined ? { samples: flags.samples } : {}),
          ...common(flags),
        } as JobSpecInput),
    ),
  );

  withCommon(
    program
      .command('export')
      .description(
        'write a model as TensorFlow.js layers (optionally quantized), Keras 2 .h5, or ONNX (float32 or int8)',
      )
      .requiredOption('--model <path>', 'model folder or file, or a run folder', absolute)
      .addOption(
        new Option('--format <format>', 'output format')
          .choices([...MODEL_FORMATS_OUT])
          .makeOptionMandatory(),
      )
      .requiredOption(
        '--to <path>',
        'output folder (tfjs), .h5 file (keras-h5) or .onnx file (onnx)',
        absolute,
      )
      .addOption(
        new Option(
          '--quantize <dtype>',
          "tfjs: store weights as (default: the model's own stored type); onnx: int8 (static QDQ)",
        ).choices([...EXPORT_QUANT_DTYPES]),
      )
      .addOption(
        new Option('--layout <layout>', 'onnx: input layout (default nchw)').choices([...ONNX_LAYOUTS]),
      )
      .option(
        '--data <path>',
        'onnx int8: dataset to calibrate on (training split) and evaluate (test split)',
        absolute,
      )
      .option('--calibration <n>', 'onnx int8: calibration samples (default 256)', integer(1))
      .addOption(
        new Option('--calibration-method <method>', 'onnx int8: activation ranges (default minmax)').choices([
          ...CALIBRATION_METHODS,
        ]),
      ),
  ).action(
    action(
      async (
        flags: CommonFlags & {
          model: string;
          format: string;
          to: string;
          quantize?: string;
          layout?: string;
          data?: string;
          calibration?: number;
          calibrationMethod?: string;
        },
      ) =>
        parseSpec({
          kind: 'export-model',
          model: flags.model,
          format: flags.format,
          to: flags.to,
          ...(flags.quantize ? { quantize: flags.quantize } : {}),
          ...(flags.layout ? { layout: flags.layout } : {}),
          ...(flags.data ? { data: flags.data } : {}),
          ...(flags.calibration !== undefined ? { calibration: flags.calibration } : {}),
          ...(flags.calibrationMethod ? { calibrationMethod: flags.calibrationMethod } : {}),
          ...common(flags),
        } as JobSpecInput),
    ),
  );

  withCommon(
    program
      .command('demo')
      .description(`the whole pipeline on the bundled sample (${path.basename(SAMPLE_DATASET)})`)
      .option(
        '--out <dir>',
        'run folder to write (default: a new folder under your Pollard runs folder)',
        absolute,
      )
      .option('--epochs <n>', 'baseline training epochs', integer(1)),
  ).action(
    action(async (flags: CommonFlags & { out?: string; epochs?: number }) =>
      parseSpec({
        kind: 'demo',
        out: flags.out ?? path.join(defaultRunsDirectory(), `demo-${timestamp()}`),
        ...(flags.epochs !== undefined ? { epochs: flags.epochs } : {}),
        ...common(flags),
      } as JobSpecInput),
    ),
  );

  withCommon(
    program
      .command('report')
      .description('the energy-savings report of a run folder (compress, demo or train run)')
      .argument('<run>', 'run folder', absolute)
      .requiredOption(
        '--format <formats>',
        `one or more of ${REPORT_FORMATS.join(', ')}, comma-separated`,
        reportFormats,
      )
      .option('--out <path>', 'folder, or a file for one format (default: <run>/report/)', absolute)
      .addOption(new Option('--paper <size>', 'PDF paper size').choices(['a4', 'letter']))
      .option('--grid-region <code>', 'grid region for carbon, e.g. DE or US-CAL-CISO')
      .option('--grid-intensity <g>', 'grid intensity in gCO2e/kWh (overrides the region)', nonNegative)
      .option('--pue <f>', 'power usage effectiveness (default 1.0)', positive),
  ).action(
    action(
      async (
        run: string,
        flags: CommonFlags & {
          format: string[];
          out?: string;
          paper?: string;
          gridRegion?: string;
          gridIntensity?: number;
          pue?: number;
        },
      ) =>
        parseSpec({
          kind: 'report',
          run,
          formats: flags.format,
          ...(flags.out ? { out: flags.out } : {}),
          ...(flags.paper ? { paper: flags.paper } : {}),
          ...(flags.gridRegion !== undefined || flags.gridIntensity !== undefined || flags.pue !== undefined
            ? {
                grid: {
                  ...(flags.gridRegion !== undefined ? { region: flags.gridRegion } : {}),
                  ...(flags.gridIntensity !== undefined ? { intensity: flags.gridIntensity } : {}),
                  ...(flags.pue !== undefined ? { pue: flags.pue } : {}),
                },
              }
            : {}),
          ...common(flags),
        } as JobSpecInput),
    ),
  );

  program
    .command('serve')
    .description('the app in a browser: serve the UI on this machine, protected by a token it prints')
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .option('--port <n>', 'port (default 7878 or the next free one; 0: any free port)', integer(0))
    .action(async (flags: { host: string; port?: number }) => {
      const { runServeCommand } = await import('../serve/serve-command');
      setExit(await runServeCommand(flags));
    });

  return program;
}

interface TrainFlags {
  data?: string;
  arch?: string;
  out?: string;
  epochs?: number;
  optimizer?: string;
  lr?: number;
  momentum?: number;
  schedule?: string;
  stepEpochs?: number;
  gamma?: number;
  weightDecay?: number;
  earlyStopping?: number;
  validationSplit?: number;
  augment?: boolean;
  resume?: string;
  pruneWhileTraining?: boolean;
  targetMacs?: number;
  targetParams?: number;
  bnL1?: number;
  maskThreshold?: number;
  stableEpochs?: number;
  pruneAtEpoch?: number;
  compareDense?: boolean;
  denseRun?: string;
  pruneSteps?: number;
  roundTo?: number;
}

/** The prune-while-training options; any of them without --prune-while-training is a usage error. */
function pruneWhileTrainingFlags(flags: TrainFlags): Record<string, unknown> {
  const options = {
    ...(flags.targetMacs !== undefined ? { targetMacs: flags.targetMacs } : {}),
    ...(flags.targetParams !== undefined ? { targetParams: flags.targetParams } : {}),
    ...(flags.bnL1 !== undefined ? { bnL1: flags.bnL1 } : {}),
    ...(flags.maskThreshold !== undefined ? { maskThreshold: flags.maskThreshold } : {}),
    ...(flags.stableEpochs !== undefined ? { stableEpochs: flags.stableEpochs } : {}),
    ...(flags.pruneAtEpoch !== undefined ? { pruneAtEpoch: flags.pruneAtEpoch } : {}),
    ...(flags.pruneSteps !== undefined ? { pruneSteps: flags.pruneSteps } : {}),
    ...(flags.roundTo !== undefined ? { roundTo: flags.roundTo } : {}),
    ...(flags.compareDense ? { compareDense: true } : {}),
    ...(flags.denseRun !== undefined ? { denseRun: flags.denseRun } : {}),
  };
  if (!flags.pruneWhileTraining) {
    const given = Object.keys(options);
    if (given.length > 0) {
      const flag = `--${given[0]!.replace(/[A-Z0-9]+/g, (c) => `-${c.toLowerCase()}`)}`;
      throw new PollardError('usage', `train: ${flag} needs --prune-while-training`);
    }
    return {};
  }
  return { pruneWhileTraining: options };
}

interface CompressFlags {
  model?: string;
  data?: string;
  method?: string;
  out?: string;
  targetMacs?: number;
  targetParams?: number;
  sparsity?: number;
  dtype?: string;
  inputScaling?: string;
  criterion?: string;
  scope?: string;
  roundTo?: number;
  minChannels?: number;
  ignore?: string;
  steps?: number;
  accuracyBudget?: number;
  granularity?: string;
  finetuneEpochs?: number;
  lr?: number;
  energy?: string;
  resume?: string;
}

function trainingFlags(flags: TrainFlags): Record<string, unknown> {
  const schedule =
    flags.schedule === 'step'
      ? { kind: 'step', stepEpochs: flags.stepEpochs ?? 10, gamma: flags.gamma ?? 0.1 }
      : flags.schedule === 'cosine'
        ? { kind: 'cosine' }
        : flags.schedule === 'constant'
          ? { kind: 'constant' }
          : undefined;
  return {
    ...(flags.epochs !== undefined ? { epochs: flags.epochs } : {}),
    ...(flags.optimizer ? { optimizer: flags.optimizer } : {}),
    ...(flags.lr !== undefined ? { learningRate: flags.lr } : {}),
    ...(flags.momentum !== undefined ? { momentum: flags.momentum } : {}),
    ...(schedule ? { schedule } : {}),
    ...(flags.weightDecay !== undefined ? { weightDecay: flags.weightDecay } : {}),
    ...(flags.earlyStopping !== undefined ? { earlyStopping: { patience: flags.earlyStopping } } : {}),
    ...(flags.validationSplit !== undefined ? { validationSplit: flags.validationSplit } : {}),
    ...(flags.augment ? { augment: true } : {}),
  };
}

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram(execute, (code) => {
    exitCode = code;
  });
  const verbose = argv.includes('--verbose');
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message (or the help / version text).
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof PollardError) return reportError(error.toJSON(), { backend: 'auto', verbose, json });
    const serialized: SerializedError = {
      code: 'internal',
      message: error instanceof Error ? error.message : String(error),
      ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
    };
    return reportError(serialized, { backend: 'auto', verbose, json });
  }
}
