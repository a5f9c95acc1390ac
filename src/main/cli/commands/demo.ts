/** `pollard demo`: the whole pipeline on the bundled sample, and `pollard serve`. */
import path from 'node:path';
import type { Command } from 'commander';
import { demoSpecSchema, type JobSpecInput } from '../../../shared/jobs';
import { defaultRunsDirectory, SAMPLE_DATASET } from '../../util/paths';
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

const DEFAULTS = demoSpecSchema.parse({ kind: 'demo', out: '-' });

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').replace(/\..*$/, '');
}

export function addDemoCommand(program: Command, action: ActionOf): void {
  withCommon(
    program
      .command('demo')
      .description(`the whole pipeline on the bundled sample (${path.basename(SAMPLE_DATASET)})`)
      .option(
        '--out <dir>',
        'run folder to write (default: a new folder under your Pollard runs folder)',
        absolute,
      )
      .option('--epochs <n>', withDefault('baseline training epochs', DEFAULTS.epochs), integer(1)),
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
}

export function addServeCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('serve')
    .description('the app in a browser: serve the UI on this machine, protected by a token it prints')
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .option('--port <n>', 'port (default: 7878 or the next free one; 0: any free port)', integer(0))
    .action(async (flags: { host: string; port?: number }) => {
      const { runServeCommand } = await import('../../serve/serve-command');
      setExit(await runServeCommand(flags));
    });
}
