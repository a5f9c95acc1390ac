/** `pollard explore`: structured pruning at several targets, each measured, to pick a point on the curve. */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { CRITERIA, exploreSpecSchema, type JobSpecInput } from '../../../shared/jobs';
import {
  absolute,
  type ActionOf,
  common,
  type CommonFlags,
  inputScalingOption,
  integer,
  parseSpec,
  withCommon,
  withDefault,
} from '../options';

const DEFAULTS = exploreSpecSchema.parse({ kind: 'explore', model: '-', data: '-', out: '-' });

interface ExploreFlags extends CommonFlags {
  model: string;
  data: string;
  out: string;
  targets?: number[];
  by?: string;
  criterion?: string;
  scope?: string;
  roundTo?: number;
  finetuneEpochs?: number;
  samples?: number;
  inputScaling?: string;
}

/** `0.2,0.4,0.6`: fractions between 0 and 1 (exclusive). */
function targets(value: string): number[] {
  const list = value.split(',').map((item) => Number(item.trim()));
  if (list.length === 0 || list.some((n) => !Number.isFinite(n) || n <= 0 || n >= 1))
    throw new InvalidArgumentError(
      `expected fractions between 0 and 1 (exclusive), comma-separated, got "${value}".`,
    );
  return list;
}

export function addExploreCommand(program: Command, action: ActionOf): void {
  withCommon(
    program
      .command('explore')
      .description('prune at several targets and measure each (accuracy, MACs, latency) to pick one')
      .requiredOption('--model <path>', 'model folder or file, or a run folder', absolute)
      .requiredOption('--data <path>', 'dataset folder or file', absolute)
      .requiredOption('--out <dir>', 'run folder to write', absolute)
      .option(
        '--targets <fractions>',
        withDefault('fractions to remove, comma-separated', DEFAULTS.targets.join(',')),
        targets,
      )
      .addOption(
        new Option('--by <metric>', withDefault('what the targets count', DEFAULTS.by)).choices([
          'macs',
          'params',
        ]),
      )
      .addOption(
        new Option('--criterion <name>', withDefault('channel importance', DEFAULTS.criterion)).choices([
          ...CRITERIA,
        ]),
      )
      .addOption(
        new Option('--scope <scope>', withDefault('rank per layer or globally', DEFAULTS.scope)).choices([
          'layer',
          'global',
        ]),
      )
      .option(
        '--round-to <n>',
        withDefault('round channel counts to a multiple of N', DEFAULTS.roundTo),
        integer(1),
      )
      .option(
        '--finetune-epochs <n>',
        withDefault('brief fine-tuning of each point', DEFAULTS.finetuneEpochs),
        integer(0),
      )
      .option('--samples <n>', withDefault('evaluation samples per point', DEFAULTS.samples), integer(1))
      .addOption(inputScalingOption()),
  ).action(
    action(async (flags: ExploreFlags) =>
      parseSpec({
        kind: 'explore',
        model: flags.model,
        data: flags.data,
        out: flags.out,
        ...(flags.targets ? { targets: flags.targets } : {}),
        ...(flags.by ? { by: flags.by } : {}),
        ...(flags.criterion ? { criterion: flags.criterion } : {}),
        ...(flags.scope ? { scope: flags.scope } : {}),
        ...(flags.roundTo !== undefined ? { roundTo: flags.roundTo } : {}),
        ...(flags.finetuneEpochs !== undefined ? { finetuneEpochs: flags.finetuneEpochs } : {}),
        ...(flags.samples !== undefined ? { samples: flags.samples } : {}),
        ...(flags.inputScaling ? { inputScaling: flags.inputScaling } : {}),
        ...common(flags),
      } as JobSpecInput),
    ),
  );
}
