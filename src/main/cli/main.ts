/**
 * The `pollard` command line: the headless contract from ARCHITECTURE.md. Every command that
 * touches a model runs as a job in a separate process, exactly as the app does. One file per
 * command under commands/; the options they share in options.ts; running a job in execute.ts.
 *
 * Output: `--json` prints one JSON object on stdout and nothing else; progress goes to stderr.
 * Errors: one line naming the file and the problem, exit code 1 (2 for usage errors,
 * 130 when cancelled); the stack trace only with `--verbose`.
 */
import { Command, CommanderError } from 'commander';
import { PollardError, type SerializedError } from '../../shared/errors';
import type { JobSpec } from '../../shared/jobs';
import { POLLARD_VERSION } from '../util/version';
import { addCompressCommand } from './commands/compress';
import { addDemoCommand, addServeCommand } from './commands/demo';
import { addExploreCommand } from './commands/explore';
import { addExportCommand } from './commands/export';
import { addReportCommand } from './commands/report';
import { addSensitivityCommand } from './commands/sensitivity';
import { addEvaluateCommand, addInfoCommand, addInspectCommand } from './commands/simple';
import { addTrainCommand } from './commands/train';
import { EXIT, execute, reportError } from './execute';
import type { Action, ActionOf, CommonFlags } from './options';

export { EXIT } from './execute';

export function buildProgram(
  run: (spec: JobSpec, flags: CommonFlags) => Promise<number>,
  setExit: (code: number) => void,
): Command {
  const program = new Command('pollard')
    .description('Make trained neural networks smaller, faster and cheaper to run.')
    .version(POLLARD_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  const action: ActionOf =
    (build: Action) =>
    async (...args: unknown[]): Promise<void> => {
      const command = args[args.length - 1] as Command;
      const flags = command.opts<CommonFlags>();
      const spec = await (build as (...a: unknown[]) => Promise<JobSpec>)(...args);
      setExit(await run(spec, flags));
    };

  addInfoCommand(program, action);
  addInspectCommand(program, action);
  addTrainCommand(program, action);
  addEvaluateCommand(program, action);
  addCompressCommand(program, action);
  addSensitivityCommand(program, action);
  addExploreCommand(program, action);
  addExportCommand(program, action);
  addDemoCommand(program, action);
  addReportCommand(program, action);
  addServeCommand(program, setExit);
  return program;
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
    if (error instanceof PollardError) return reportError(error.toJSON(), { verbose, json });
    const serialized: SerializedError = {
      code: 'internal',
      message: error instanceof Error ? error.message : String(error),
      ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
    };
    return reportError(serialized, { verbose, json });
  }
}
