/**
 * NVIDIA GPU power through `nvidia-smi` polling, the fallback where NVML cannot be loaded through
 * FFI. nvidia-smi has no energy counter in `--query-gpu`, so figures are `measured:sampled`: one
 * child process prints `timestamp, index, power.draw, name` every 100 ms and each GPU's power is
 * integrated with the trapezoid rule. The child runs outside the training thread.
 */
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { TraceReader } from './trace-reader';
import {
  errorMessage,
  systemClock,
  type Clock,
  type EnergyReader,
  type EnergySource,
  type ProbeResult,
} from './types';

export const NVIDIA_SMI_FIELDS = 'timestamp,index,power.draw,name';

export interface NvidiaSmiSample {
  /** Epoch ms from nvidia-smi's own timestamp (local time), null if it could not be read. */
  at: number | null;
  index: number;
  name: string;
  watts: number | null;
  /** Why `watts` is null: the raw value, e.g. "[Not Supported]". */
  unsupported?: string;
}

/** Parses `2024/05/01 12:00:00.123` (local time, as nvidia-smi prints it). */
export function parseNvidiaSmiTimestamp(text: string): number | null {
  const match = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/.exec(text.trim());
  if (!match) return null;
  const [, y, mo, d, h, mi, s, ms] = match;
  const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  // Date rolls 13/45 over into next year; a real timestamp survives the round trip.
  if (date.getMonth() !== Number(mo) - 1 || date.getDate() !== Number(d) || date.getHours() !== Number(h)) {
    return null;
  }
  return date.getTime() + Number((ms ?? '0').padEnd(3, '0'));
}

/**
 * One line of `--query-gpu=timestamp,index,power.draw,name --format=csv,noheader,nounits`, e.g.
 * `2024/05/01 12:00:00.123, 0, 71.23, NVIDIA GeForce RTX 3090`. The name goes last because it is
 * the only field that could contain a comma. Returns null for lines that are not samples.
 */
export function parseNvidiaSmiLine(line: string): NvidiaSmiSample | null {
  const fields = line.split(',').map((field) => field.trim());
  if (fields.length < 4) return null;
  const [timestamp, indexText, powerText] = fields as [string, string, string];
  const name = fields.slice(3).join(', ');
  if (!/^\d+$/.test(indexText)) return null;
  const index = Number(indexText);
  const at = parseNvidiaSmiTimestamp(timestamp);
  const watts = Number(powerText);
  if (powerText === '' || !Number.isFinite(watts) || watts < 0) {
    return { at, index, name, watts: null, unsupported: powerText };
  }
  return { at, index, name, watts };
}

export interface NvidiaSmiOptions {
  /** The executable; default: `nvidia-smi` found on PATH (and the driver's folders on Windows). */
  executable?: string;
  intervalMs?: number;
  clock?: Clock;
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
}

/** Finds `nvidia-smi` on PATH; null when absent. */
export function findNvidiaSmi(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): string | null {
  const exe = platform === 'win32' ? 'nvidia-smi.exe' : 'nvidia-smi';
  const dirs = (env.PATH ?? env.Path ?? '').split(platform === 'win32' ? ';' : ':').filter(Boolean);
  if (platform === 'win32') {
    dirs.push(path.join(env.SystemRoot ?? 'C:\\Windows', 'System32'));
    dirs.push('C:\\Program Files\\NVIDIA Corporation\\NVSMI');
  }
  for (const dir of dirs) {
    const candidate = path.join(dir, exe);
    try {
      accessSync(candidate, platform === 'win32' ? fsConstants.F_OK : fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function runOnce(executable: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(executable, args, { timeout: 10_000, windowsHide: true }, (error, stdout, stderr) => {
      if (error) {
        const said = `${stdout}\n${stderr}`.split('\n').find((line) => line.trim() !== '');
        reject(new Error(`${path.basename(executable)} failed: ${said?.trim() ?? errorMessage(error)}`));
      } else resolve(stdout);
    });
  });
}

export class NvidiaSmiSource implements EnergySource {
  readonly id = 'nvidia-smi';
  readonly name = 'NVIDIA GPU power (nvidia-smi polling)';
  readonly kind = 'measured' as const;
  readonly covers = ['gpu'] as const;
  private readonly options: NvidiaSmiOptions;

  constructor(options: NvidiaSmiOptions = {}) {
    this.options = options;
  }

  private executable(): string {
    const given = this.options.executable;
    if (given !== undefined) {
      try {
        accessSync(given, fsConstants.F_OK);
      } catch {
        throw new Error(`${given}: not found`);
      }
      return given;
    }
    const found = findNvidiaSmi(this.options.platform, this.options.env);
    if (found === null) throw new Error('nvidia-smi is not on PATH (no NVIDIA driver installed)');
    return found;
  }

  /** Queries once; throws with the reason when no GPU reports its power. */
  private async gpus(): Promise<{ executable: string; gpus: NvidiaSmiSample[] }> {
    const executable = this.executable();
    const out = await runOnce(executable, [
      `--query-gpu=${NVIDIA_SMI_FIELDS}`,
      '--format=csv,noheader,nounits',
    ]);
    const samples = out
      .split('\n')
      .map(parseNvidiaSmiLine)
      .filter((sample): sample is NvidiaSmiSample => sample !== null);
    if (samples.length === 0) throw new Error('nvidia-smi lists no GPU');
    const measurable = samples.filter((sample) => sample.watts !== null);
    if (measurable.length === 0) {
      const first = samples[0]!;
      throw new Error(`nvidia-smi: power.draw is ${first.unsupported} on GPU ${first.index} (${first.name})`);
    }
    return { executable, gpus: measurable };
  }

  async probe(): Promise<ProbeResult> {
    try {
      const { gpus } = await this.gpus();
      return { ok: true, detail: describe(gpus), label: 'measured:sampled' };
    } catch (error) {
      return { ok: false, reason: errorMessage(error) };
    }
  }

  async open(): Promise<EnergyReader> {
    const { executable, gpus } = await this.gpus();
    const clock = this.options.clock ?? systemClock;
    const intervalMs = this.options.intervalMs ?? 100;
    const indices = new Set(gpus.map((gpu) => gpu.index));
    const child = spawn(
      executable,
      [`--query-gpu=${NVIDIA_SMI_FIELDS}`, '--format=csv,noheader,nounits', '-lms', String(intervalMs)],
      { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true },
    );
    let closing = false;
    let stderr = '';
    const reader = new TraceReader({
      id: this.id,
      source: `nvidia-smi ${describe(gpus)}`,
      covers: this.covers,
      clock,
      intervalMs,
      stop: async () => {
        closing = true;
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill();
          await exited;
        }
      },
    });
    // The poller never keeps the process alive on its own: a job that ends without stop() still exits.
    child.unref();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    (child.stderr as unknown as { unref?: () => void }).unref?.();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 2000) stderr += chunk;
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const sample = parseNvidiaSmiLine(line);
      if (!sample || sample.watts === null || !indices.has(sample.index)) return;
      const arrived = clock();
      // nvidia-smi's timestamp is exact where stdout is block-buffered; trust it unless it is far off.
      const at = sample.at !== null && Math.abs(sample.at - arrived) < 5000 ? sample.at : arrived;
      reader.add(sample.watts, at, sample.index);
    });
    child.on('error', (error) => reader.fail(`nvidia-smi could not run: ${errorMessage(error)}`));
    child.on('exit', (code, signal) => {
      if (closing) return;
      const said = stderr
        .split('\n')
        .find((line) => line.trim() !== '')
        ?.trim();
      reader.fail(`nvidia-smi stopped (${signal ?? `exit code ${code}`})${said ? `: ${said}` : ''}`);
    });
    return reader;
  }
}

function describe(gpus: NvidiaSmiSample[]): string {
  return gpus.map((gpu) => `GPU ${gpu.index} (${gpu.name})`).join(', ');
}
