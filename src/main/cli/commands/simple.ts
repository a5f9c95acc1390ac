/** `pollard info`, `inspect` and `evaluate`: commands that read a model and change nothing. */
import type { Command } from 'commander';
import type { JobSpecInput } from '../../../shared/jobs';
import {
  absolute,
  type ActionOf,
  common,
  type CommonFlags,
  inputScalingOption,
  parseSpec,
  withCommon,
} from '../options';

export function addInfoCommand(program: Command, action: ActionOf): void {
  withCommon(
    program.command('info').description('backends (used, or why not), devices and energy sources'),
  ).action(
    action(async (flags: CommonFlags) => parseSpec({ kind: 'info', ...common(flags) } as JobSpecInput)),
  );
}

export function addInspectCommand(program: Command, action: ActionOf): void {
  withCommon(
    program
      .command('inspect')
      .description('format, input shape, classes, layers, parameters, MACs and size of a model')
      .requiredOption(
        '--model <path>',
        'model folder or file (model.json, .h5, .keras, .onnx) or a run folder',
        absolute,
      ),
  ).action(
    action(async (flags: CommonFlags & { model: string }) =>
      parseSpec({ kind: 'inspect', model: flags.model, ...common(flags) } as JobSpecInput),
    ),
  );
}

export function addEvaluateCommand(program: Command, action: ActionOf): void {
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
}
