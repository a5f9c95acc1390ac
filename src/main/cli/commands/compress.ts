/** `pollard compress`: prune and/or quantize a model, fine-tune it, and compare before and after. */
import { type Command, Option } from 'commander';
import { PollardError } from '../../../shared/errors';
import {
  COMPRESSION_METHODS,
  compressEnergyOptionsSchema,
  CRITERIA,
  type JobSpecInput,
  QUANT_DTYPES,
} from '../../../shared/jobs';
import { resumeSpec } from '../../services/jobs';
import {
  absolute,
  type ActionOf,
  common,
  type CommonFlags,
  COMPRESS_DEFAULTS,
  fraction,
  inputScalingOption,
  integer,
  nonNegative,
  parseSpec,
  positive,
  quantDtype,
  withCommon,
  withDefault,
} from '../options';

interface CompressFlags extends CommonFlags {
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
  sensitivityRun?: string;
  granularity?: string;
  finetuneEpochs?: number;
  lr?: number;
  energy?: string;
  resume?: string;
}

/** The compress flags each method reads; a flag given to a method that ignores it is an error. */
const FLAG_METHODS: [keyof CompressFlags, string, readonly string[]][] = [
  ['targetMacs', '--target-macs', ['structured', 'structured+quantize']],
  ['targetParams', '--target-params', ['structured', 'structured+quantize']],
  ['accuracyBudget', '--accuracy-budget', ['structured', 'structured+quantize']],
  ['sensitivityRun', '--sensitivity-run', ['structured', 'structured+quantize']],
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

function methodOptions(command: Command): Command {
  const d = COMPRESS_DEFAULTS;
  return command
    .addOption(new Option('--method <method>', 'compression method').choices([...COMPRESSION_METHODS]))
    .option('--target-macs <f>', 'structured: fraction of MACs to remove', fraction)
    .option('--target-params <f>', 'structured: fraction of parameters to remove', fraction)
    .option('--sparsity <f>', 'magnitude: fraction of weights set to zero', fraction)
    .addOption(inputScalingOption())
    .option(
      '--dtype <dtype>',
      withDefault(`quantization dtype: ${QUANT_DTYPES.join(', ')}`, d.dtype),
      quantDtype,
    )
    .addOption(
      new Option('--criterion <name>', withDefault('channel importance', d.criterion)).choices([...CRITERIA]),
    )
    .addOption(
      new Option('--scope <scope>', withDefault('rank per layer or globally', d.scope)).choices([
        'layer',
        'global',
      ]),
    )
    .option('--round-to <n>', withDefault('round channel counts to a multiple of N', d.roundTo), integer(1))
    .option(
      '--min-channels <n>',
      withDefault('keep at least N channels per layer', d.minChannels),
      integer(1),
    )
    .option('--ignore <layers>', 'comma-separated layer names never to prune (default: none)')
    .option('--steps <n>', withDefault('iterative pruning: N prune + fine-tune steps', d.steps), integer(1))
    .option(
      '--accuracy-budget <points>',
      'automatic mode: at most this many accuracy points lost (default: off)',
      nonNegative,
    )
    .option(
      '--sensitivity-run <dir>',
      'automatic mode: use this finished sensitivity run of the model instead of measuring again (default: measure)',
      absolute,
    )
    .addOption(
      new Option('--granularity <g>', withDefault('QAT fake-quant granularity', d.granularity)).choices([
        'tensor',
        'channel',
      ]),
    )
    .option('--finetune-epochs <n>', withDefault('fine-tuning epochs', d.finetuneEpochs), integer(0))
    .option('--lr <rate>', withDefault('fine-tuning learning rate', d.training.learningRate), positive);
}

function specOf(flags: CompressFlags): JobSpecInput {
  return {
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
    ...(flags.sensitivityRun ? { sensitivityRun: flags.sensitivityRun } : {}),
    ...(flags.granularity ? { granularity: flags.granularity } : {}),
    ...(flags.finetuneEpochs !== undefined ? { finetuneEpochs: flags.finetuneEpochs } : {}),
    ...(flags.lr !== undefined ? { training: { learningRate: flags.lr } } : {}),
    ...(flags.energy ? { energy: { mode: flags.energy } } : {}),
    ...common(flags),
  } as JobSpecInput;
}

export function addCompressCommand(program: Command, action: ActionOf): void {
  const command = program
    .command('compress')
    .description('prune and/or quantize a model, fine-tune it, and compare before and after')
    .option('--model <path>', 'model folder or file, or a run folder', absolute)
    .option('--data <path>', 'dataset folder or file', absolute);
  methodOptions(command)
    .option('--out <dir>', 'run folder to write', absolute)
    .addOption(
      new Option(
        '--energy <mode>',
        withDefault(
          'energy measurement: off, quick (no extra training passes) or full (also mini-epochs of the original when it has no train run)',
          compressEnergyOptionsSchema.parse({}).mode,
        ),
      ).choices(['off', 'quick', 'full']),
    )
    .option('--resume <dir>', 'continue an interrupted run', absolute);
  withCommon(command).action(
    action(async (flags: CompressFlags) => {
      if (flags.resume) return resumeSpec(flags.resume);
      for (const required of ['model', 'data', 'method', 'out'] as const) {
        if (!flags[required])
          throw new PollardError('usage', `compress: --${required} is required (or --resume <dir>)`);
      }
      refuseUnusedFlags(flags.method!, flags);
      return parseSpec(specOf(flags));
    }),
  );
}
