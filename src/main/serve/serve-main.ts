/**
 * Entry of the bundled `pollard serve` (out/app/serve/index.js), which `npm start` runs when
 * it cannot open the desktop app. Unlike `bin/pollard.mjs serve` it starts without compiling
 * TypeScript, and its jobs run the bundled job process (out/app/worker), so the first page
 * and every job start sooner. Same server, same options: [--host H] [--port P].
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PollardError } from '../../shared/errors';
import { nodeWorkerLauncher } from '../services/job-host';
import { PACKAGE_ROOT } from '../util/paths';
import { runServeCommand, type ServeFlags } from './serve-command';

export const BUNDLED_WORKER = path.join(PACKAGE_ROOT, 'out', 'app', 'worker', 'index.js');

export function parseServeArguments(argv: string[]): ServeFlags {
  const { values } = parseArgs({
    args: argv,
    options: { host: { type: 'string' }, port: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const flags: ServeFlags = {};
  if (values.host !== undefined) flags.host = values.host;
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      throw new PollardError('usage', `--port ${values.port}: expected an integer 0…65535`);
    }
    flags.port = port;
  }
  return flags;
}

export async function serveMain(argv: string[]): Promise<number> {
  try {
    return await runServeCommand(parseServeArguments(argv), {
      service: {
        createLauncher: (env) =>
          nodeWorkerLauncher({ entry: BUNDLED_WORKER, env: { ...process.env, ...env } }),
      },
    });
  } catch (error) {
    process.stderr.write(
      `pollard serve: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`,
    );
    return error instanceof PollardError && error.code === 'usage' ? 2 : 1;
  }
}
