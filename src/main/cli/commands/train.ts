/** `pollard train`: a baseline from a built-in architecture, optionally pruned while it trains. */
import { type Command, Option } from 'commander';
import { PollardError } from '../../../shared/errors';
import { ARCHITECTURES, type JobSpecInput, pruneWhileTrainingSchema } from '../../../shared/jobs';
import { resumeSpec } from '../../services/jobs';
import {
  absolute,
  type ActionOf,
  common,
  type CommonFlags,
  fraction,
  integer,
  nonNegative,
  parseSpec,
  positive,
  TRAIN_DEFAULTS,
  withCommon,
  withDefault,
} from '../options';

const PWT_DEFAULTS = pruneWhileTrainingSchema.parse({ targetMacs: 0.5 });

interface TrainFlags extends CommonFlags {
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

function trainingOptions(command: Command): Command {
  const d = TRAIN_DEFAULTS;
  return command
    .option('--epochs <n>', withDefault('epochs', d.epochs), integer(1))
    .addOption(
      new Option('--optimizer <name>', withDefault('optimizer', d.optimizer)).choices(['adam', 'sgd']),
    )
    .option('--lr <rate>', withDefault('learning rate', d.learningRate), positive)
    .option('--momentum <m>', withDefault('SGD momentum', d.momentum), nonNegative)
    .addOption(
      new Option('--schedule <kind>', withDefault('learning-rate schedule', d.schedule.kind)).choices([
        'constant',
        'step',
        'cosine',
      ]),
    )
    .option('--step-epochs <n>', withDefault('step schedule: epochs per step', 10), integer(1))
    .option('--gamma <g>', withDefault('step schedule: factor per step', 0.1), positive)
    .option(
      '--weight-decay <wd>',
      withDefault('decoupled weight decay on kernels', d.weightDecay),
      nonNegative,
    )
    .option(
      '--early-stopping <patience>',
      'stop after N epochs without improvement (default: off)',
      integer(1),
    )
    .option(
      '--validation-split <f>',
      withDefault('fraction of the training split held out', d.validationSplit),
      nonNegative,
    )
    .option('--augment', 'random crop with padding and horizontal flip (default: off)');
}

function pruneWhileTrainingOptions(command: Command): Command {
  const d = PWT_DEFAULTS;
  const pwt = 'prune while training:';
  return command
    .option('--prune-while-training', 'find the small network early (BN masks stable), prune, train it on')
    .option('--target-macs <f>', `${pwt} fraction of MACs to remove`, fraction)
    .option('--target-params <f>', `${pwt} fraction of parameters to remove`, fraction)
    .option('--bn-l1 <lambda>', withDefault(`${pwt} L1 penalty on BN scales`, d.bnL1), nonNegative)
    .option(
      '--mask-threshold <f>',
      withDefault(`${pwt} masks stable below this distance`, d.maskThreshold),
      fraction,
    )
    .option(
      '--stable-epochs <n>',
      `${pwt} stable epochs that trigger the prune (default: 3, or 2 for runs under 20 epochs)`,
      integer(1),
    )
    .option(
      '--prune-at-epoch <n>',
      `${pwt} prune after this epoch (default: when the masks are stable)`,
      integer(1),
    )
    .option('--prune-steps <n>', withDefault(`${pwt} shrink in 1–3 steps`, d.pruneSteps), integer(1))
    .option('--round-to <n>', withDefault(`${pwt} keep channel counts multiples of N`, d.roundTo), integer(1))
    .option('--compare-dense', `${pwt} also train the dense model and compare`)
    .option('--dense-run <dir>', `${pwt} compare with this finished dense train run instead`, absolute);
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

function scheduleOf(flags: TrainFlags): Record<string, unknown> | undefined {
  if (flags.schedule === 'step')
    return { kind: 'step', stepEpochs: flags.stepEpochs ?? 10, gamma: flags.gamma ?? 0.1 };
  if (flags.schedule === 'cosine' || flags.schedule === 'constant') return { kind: flags.schedule };
  return undefined;
}

function trainingFlags(flags: TrainFlags): Record<string, unknown> {
  const schedule = scheduleOf(flags);
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

export function addTrainCommand(program: Command, action: ActionOf): void {
  const command = program
    .command('train')
    .description('train a baseline from a built-in architecture')
    .option('--data <path>', 'dataset folder or file', absolute)
    .addOption(new Option('--arch <name>', 'architecture').choices([...ARCHITECTURES]))
    .option('--out <dir>', 'run folder to write', absolute);
  trainingOptions(command);
  pruneWhileTrainingOptions(command);
  command.option('--resume <dir>', 'continue an interrupted run from its last checkpoint', absolute);
  withCommon(command).action(
    action(async (flags: TrainFlags) => {
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
}
