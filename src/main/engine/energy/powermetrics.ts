/**
 * macOS power through `powermetrics` (CPU, GPU and ANE on Apple silicon; the package on Intel
 * Macs). It needs root, so it is opt-in: POLLARD_POWERMETRICS=1 (or the `enabled` option), then
 * Pollard runs it directly when root or through `sudo -n` (a sudoers NOPASSWD entry). The text
 * output is parsed; figures are `measured:sampled`.
 */
import { execFile, spawn } from 'node:child_process';
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

export const POWERMETRICS_OPT_IN =
  'opt-in: powermetrics needs root; allow `sudo -n /usr/bin/powermetrics` (a sudoers NOPASSWD entry) or run as root, then set POLLARD_POWERMETRICS=1';

export interface PowermetricsSample {
  /** The sample's own interval, from its header, when printed. */
  elapsedMs: number | null;
  watts: number;
  parts: { cpu?: number; gpu?: number; ane?: number; combined?: number; package?: number };
}

const HEADER = /^\*\*\* Sampled system activity \([^)]*\)(?: \(([\d.]+)ms elapsed\))? \*\*\*/;
const MILLIWATT_LINES: [RegExp, keyof PowermetricsSample['parts']][] = [
  [/^CPU Power:\s*([\d.]+)\s*mW/, 'cpu'],
  [/^GPU Power:\s*([\d.]+)\s*mW/, 'gpu'],
  [/^ANE Power:\s*([\d.]+)\s*mW/, 'ane'],
  [/^Combined Power \(CPU \+ GPU \+ ANE\):\s*([\d.]+)\s*mW/, 'combined'],
  [/^Package Power:\s*([\d.]+)\s*mW/, 'package'],
];
const INTEL_PACKAGE = /^Intel energy model derived package power \(CPUs\+GT\+SA\):\s*([\d.]+)\s*W/;

/**
 * Streams powermetrics' text output line by line. A sample is complete at its total line
 * (Combined, Package, or Intel's package power), else at the next header or the end.
 */
export class PowermetricsTextParser {
  private current: PowermetricsSample['parts'] | null = null;
  private elapsedMs: number | null = null;

  private finish(): PowermetricsSample | null {
    const parts = this.current;
    this.current = null;
    if (!parts) return null;
    const watts =
      parts.combined ??
      parts.package ??
      (parts.cpu !== undefined ? parts.cpu + (parts.gpu ?? 0) + (parts.ane ?? 0) : undefined);
    return watts === undefined ? null : { elapsedMs: this.elapsedMs, watts, parts };
  }

  push(line: string): PowermetricsSample | null {
    const text = line.trim();
    const header = HEADER.exec(text);
    if (header) {
      const done = this.finish();
      this.current = {};
      this.elapsedMs = header[1] !== undefined ? Number(header[1]) : null;
      return done;
    }
    if (!this.current) return null;
    const intel = INTEL_PACKAGE.exec(text);
    if (intel) {
      this.current.package ??= Number(intel[1]);
      return this.finish();
    }
    for (const [pattern, part] of MILLIWATT_LINES) {
      const match = pattern.exec(text);
      if (!match) continue;
      // GPU Power is printed by both the cpu_power and gpu_power samplers: keep the first.
      this.current[part] ??= Number(match[1]) / 1000;
      return part === 'combined' || part === 'package' ? this.finish() : null;
    }
    return null;
  }

  end(): PowermetricsSample | null {
    return this.finish();
  }
}

export interface PowermetricsOptions {
  /** Default: POLLARD_POWERMETRICS=1. */
  enabled?: boolean;
  platform?: NodeJS.Platform;
  executable?: string;
  intervalMs?: number;
  clock?: Clock;
  /** Default: the process runs as root (uid 0); otherwise `sudo -n` is used. */
  isRoot?: boolean;
}

export class PowermetricsSource implements EnergySource {
  readonly id = 'powermetrics';
  readonly name = 'macOS powermetrics';
  readonly kind = 'measured' as const;
  readonly covers = ['cpu', 'gpu'] as const;
  private readonly options: PowermetricsOptions;

  constructor(options: PowermetricsOptions = {}) {
    this.options = options;
  }

  private command(args: string[]): { file: string; args: string[] } {
    const platform = this.options.platform ?? process.platform;
    if (platform !== 'darwin') throw new Error(`powermetrics is macOS only; this is ${platform}`);
    if (!(this.options.enabled ?? process.env.POLLARD_POWERMETRICS === '1'))
      throw new Error(POWERMETRICS_OPT_IN);
    const executable = this.options.executable ?? '/usr/bin/powermetrics';
    const root = this.options.isRoot ?? process.getuid?.() === 0;
    return root ? { file: executable, args } : { file: 'sudo', args: ['-n', executable, ...args] };
  }

  private samplerArgs(intervalMs: number): string[] {
    // -b 1: line-buffered, so samples arrive when they are taken.
    return ['--samplers', 'cpu_power,gpu_power', '-i', String(intervalMs), '-b', '1'];
  }

  async probe(): Promise<ProbeResult> {
    try {
      const { file, args } = this.command([...this.samplerArgs(100), '-n', '1']);
      const out = await new Promise<string>((resolve, reject) => {
        execFile(file, args, { timeout: 10_000 }, (error, stdout, stderr) => {
          if (error) {
            const said = `${stderr}\n${stdout}`
              .split('\n')
              .find((line) => line.trim() !== '')
              ?.trim();
            reject(new Error(`powermetrics failed: ${said ?? errorMessage(error)}`));
          } else resolve(stdout);
        });
      });
      const parser = new PowermetricsTextParser();
      let sample: PowermetricsSample | null = null;
      for (const line of out.split('\n')) sample = parser.push(line) ?? sample;
      sample = parser.end() ?? sample;
      if (!sample) throw new Error('powermetrics printed no CPU or package power');
      return {
        ok: true,
        detail: `powermetrics (${Object.keys(sample.parts).join(', ')})`,
        label: 'measured:sampled',
      };
    } catch (error) {
      return { ok: false, reason: errorMessage(error) };
    }
  }

  async open(): Promise<EnergyReader> {
    const intervalMs = this.options.intervalMs ?? 200;
    const { file, args } = this.command(this.samplerArgs(intervalMs));
    const clock = this.options.clock ?? systemClock;
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let closing = false;
    let stderr = '';
    const reader = new TraceReader({
      id: this.id,
      source: 'powermetrics CPU + GPU + ANE',
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
    const parser = new PowermetricsTextParser();
    // Each value is the average over the sample's interval, so it is placed at the interval's middle.
    const add = (sample: PowermetricsSample | null): void => {
      if (sample) reader.add(sample.watts, clock() - (sample.elapsedMs ?? intervalMs) / 2);
    };
    // The poller never keeps the process alive on its own: a job that ends without stop() still exits.
    child.unref();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    (child.stderr as unknown as { unref?: () => void }).unref?.();
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < 2000) stderr += chunk;
    });
    createInterface({ input: child.stdout }).on('line', (line) => add(parser.push(line)));
    child.on('error', (error) => reader.fail(`powermetrics could not run: ${errorMessage(error)}`));
    child.on('exit', (code, signal) => {
      add(parser.end());
      if (closing) return;
      const said = stderr
        .split('\n')
        .find((line) => line.trim() !== '')
        ?.trim();
      reader.fail(`powermetrics stopped (${signal ?? `exit code ${code}`})${said ? `: ${said}` : ''}`);
    });
    return reader;
  }
}
