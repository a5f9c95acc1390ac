/** `pollard sensitivity`: each layer pruned at 10%…90% on its own, accuracy without fine-tuning. */
import { type Command, Option } from 'commander';
import { CRITERIA, type JobSpecInput, sensitivitySpecSchema } from '../../../shared/jobs';
import {
  absolute,
  type ActionOf,
  common,
  type CommonFlags,
  integer,
  parseSpec,
  withCommon,
  withDefault,
} from '../options';

const DEFAULTS = sensitivitySpecSchema.parse({ kind: 'sensitivity', model: '-', data: '-', out: '-' });

interface SensitivityFlags extends CommonFlags {
  model: string;
  data: string;
  out: string;
  criterion?: string;
  samples?: number;
}

export function addSensitivityCommand(program: Command, action: ActionOf): void {
  withCommon(
    program
      .command('sensitivity')
      .description('per-layer accuracy when pruned at 10%…90%, without fine-tuning')
      .requiredOption('--model <path>', 'model folder or file, or a run folder', absolute)
      .requiredOption('--data <path>', 'dataset folder or file', absolute)
      .requiredOption('--out <dir>', 'run folder to write', absolute)
      .addOption(
        new Option('--criterion <name>', withDefault('channel importance', DEFAULTS.criterion)).choices([
          ...CRITERIA,
        ]),
      )
      .option(
        '--samples <n>',
        withDefault('validation samples per measurement', DEFAULTS.samples),
        integer(1),
      ),
  ).action(
    action(async (flags: SensitivityFlags) =>
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
}
