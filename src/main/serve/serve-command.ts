/**
 * `pollard serve [--host H] [--port P]`: start the server, print the URL with its token (on
 * stdout for scripts, on stderr for people), and on Ctrl-C cancel the jobs and stop.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { usageError } from '../../shared/errors';
import { AppService, type AppServiceOptions } from '../services/app-service';
import { PACKAGE_ROOT } from '../util/paths';
import { DEFAULT_HOST, type PollardServer, startServer } from './server';

export interface ServeFlags {
  host?: string;
  port?: number;
}

export interface ServeCommandOptions {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  rendererDir?: string;
  service?: AppServiceOptions;
  /** Resolves when the server should stop (default: the first SIGINT or SIGTERM). */
  stopSignal?: Promise<void>;
  onListening?: (server: PollardServer) => void;
}

/** The renderer as `npm run build:renderer` writes it. */
export const DEFAULT_RENDERER_DIR = path.join(PACKAGE_ROOT, 'out', 'renderer');

function untilInterrupted(stderr: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    let interrupts = 0;
    const onSignal = (): void => {
      interrupts += 1;
      if (interrupts === 1) {
        stderr.write('\npollard serve: stopping, cancelling jobs (Ctrl-C again to stop at once)…\n');
        resolve();
      } else process.exit(130);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export async function runServeCommand(flags: ServeFlags, options: ServeCommandOptions = {}): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  if (flags.port !== undefined && (flags.port < 0 || flags.port > 65_535)) {
    throw usageError(`--port ${flags.port}: expected 0…65535`);
  }
  const rendererDir = options.rendererDir ?? DEFAULT_RENDERER_DIR;
  const service = await AppService.create(options.service);
  for (const warning of service.settingsWarnings) stderr.write(`pollard serve: ${warning}\n`);
  if (!existsSync(path.join(rendererDir, 'index.html'))) {
    stderr.write(
      `pollard serve: ${rendererDir} has no index.html; build the UI with: npm run build:renderer\n`,
    );
  }
  const host = flags.host ?? DEFAULT_HOST;
  const server = await startServer({
    service,
    rendererDir,
    host,
    ...(flags.port !== undefined ? { port: flags.port } : {}),
    log: (line) => stderr.write(line + '\n'),
  });
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    stderr.write(
      `pollard serve: listening on ${host}: anyone who can reach this address and has the token can use Pollard\n`,
    );
  }
  stderr.write(
    `pollard serve: open ${server.tokenUrl}  (runs in ${(await service.getSettings()).runsDirectory}; Ctrl-C stops)\n`,
  );
  stdout.write(server.tokenUrl + '\n');
  options.onListening?.(server);
  await (options.stopSignal ?? untilInterrupted(stderr));
  await service.shutdown();
  await server.close();
  stderr.write('pollard serve: stopped\n');
  return 0;
}
