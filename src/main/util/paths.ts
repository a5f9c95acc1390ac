import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (or installed package) root: where package.json and resources/ are. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const RESOURCES_DIR = path.join(PACKAGE_ROOT, 'resources');

/** The bundled sample dataset. */
export const SAMPLE_DATASET = path.join(RESOURCES_DIR, 'samples', 'fashion-mnist-small');

/**
 * The user's Pollard data folder: POLLARD_DATA_DIR, else the platform's convention
 * (XDG data home on Linux, Application Support on macOS, %APPDATA% on Windows).
 * Electron's app.getPath('userData') points to the same place.
 */
export function dataDirectory(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.POLLARD_DATA_DIR) return path.resolve(env.POLLARD_DATA_DIR);
  const home = os.homedir();
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Pollard');
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Pollard');
  return path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'Pollard');
}

export function defaultRunsDirectory(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(dataDirectory(env), 'runs');
}
