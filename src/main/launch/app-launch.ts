/**
 * `npm start`: build what is missing or stale, then open the desktop app where an Electron
 * binary and a display exist; otherwise say why in one line and serve the same UI to a
 * browser (`pollard serve`).
 *
 * The Electron binary is looked for without `require('electron')`: that call downloads the
 * binary when it is missing, which needs the network and hangs offline.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../util/paths';

export type FrontEnd = { kind: 'electron'; binary: string } | { kind: 'serve'; reason: string };

/** The Electron executable that `electron/index.js` would run, if it is on disk. */
export function findElectronBinary(
  electronPackageDir = path.join(PACKAGE_ROOT, 'node_modules', 'electron'),
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const pathFile = path.join(electronPackageDir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
  const binary = env.ELECTRON_OVERRIDE_DIST_PATH
    ? path.join(env.ELECTRON_OVERRIDE_DIST_PATH, relative ?? 'electron')
    : relative
      ? path.join(electronPackageDir, 'dist', relative)
      : undefined;
  return binary && existsSync(binary) ? binary : undefined;
}

export function hasDisplay(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (platform === 'darwin' || platform === 'win32') return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
}

export function chooseFrontEnd(binary: string | undefined, display: boolean): FrontEnd {
  if (!binary) {
    return {
      kind: 'serve',
      reason:
        'pollard: no Electron binary (it downloads on first launch, which needs the network); starting the browser UI instead',
    };
  }
  if (!display) {
    return {
      kind: 'serve',
      reason: 'pollard: no display (DISPLAY and WAYLAND_DISPLAY are unset); starting the browser UI instead',
    };
  }
  return { kind: 'electron', binary };
}

async function newestMtime(target: string): Promise<number> {
  const stat = await fs.stat(target).catch(() => undefined);
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of await fs.readdir(target)) {
    newest = Math.max(newest, await newestMtime(path.join(target, entry)));
  }
  return newest;
}

/** What a build writes; each must exist and be newer than every input. */
export const BUILD_OUTPUTS = [
  'out/renderer/index.html',
  'out/app/main/index.js',
  'out/app/preload/index.cjs',
  'out/app/worker/index.js',
  'out/app/serve/index.js',
];
export const BUILD_INPUTS = ['src', 'resources', 'package.json', 'vite.config.ts', 'scripts/build-app.mjs'];

/** Why a build is needed ("out/… is missing", "src changed since the last build"), or undefined. */
export async function buildNeeded(root = PACKAGE_ROOT): Promise<string | undefined> {
  let oldestOutput = Infinity;
  for (const output of BUILD_OUTPUTS) {
    const stat = await fs.stat(path.join(root, output)).catch(() => undefined);
    if (!stat) return `${output} is missing`;
    oldestOutput = Math.min(oldestOutput, stat.mtimeMs);
  }
  for (const input of BUILD_INPUTS) {
    if ((await newestMtime(path.join(root, input))) > oldestOutput)
      return `${input} changed since the last build`;
  }
  return undefined;
}

/**
 * The child runs in its own process group (POSIX), so Ctrl-C reaches it once, through us:
 * `pollard serve` treats a second SIGINT as "stop at once".
 */
function launch(command: string, args: string[]): ReturnType<typeof spawn> {
  const child = spawn(command, args, { stdio: 'inherit', detached: process.platform !== 'win32' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (child.exitCode === null) child.kill(signal);
    });
  }
  return child;
}

export async function startApp(): Promise<number> {
  const why = await buildNeeded();
  if (why) {
    process.stderr.write(`pollard: building (${why})…\n`);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const built = spawnSync(npm, ['run', '--silent', 'build'], { cwd: PACKAGE_ROOT, stdio: 'inherit' });
    if (built.status !== 0) {
      process.stderr.write('pollard: the build failed; see the messages above\n');
      return built.status ?? 1;
    }
  }
  const frontEnd = chooseFrontEnd(findElectronBinary(), hasDisplay());
  let child: ReturnType<typeof spawn>;
  if (frontEnd.kind === 'serve') {
    process.stderr.write(frontEnd.reason + '\n');
    // The bundled server: it starts without compiling TypeScript and runs the bundled job process.
    child = launch(process.execPath, [path.join(PACKAGE_ROOT, 'out', 'app', 'serve', 'index.js')]);
  } else {
    child = launch(frontEnd.binary, [PACKAGE_ROOT]);
  }
  return new Promise((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(
        `pollard: could not start ${frontEnd.kind === 'serve' ? 'pollard serve' : 'Electron'}: ${error.message}\n`,
      );
      resolve(1);
    });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}
