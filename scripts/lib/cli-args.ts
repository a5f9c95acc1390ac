/** Tiny argument handling shared by the build scripts: one-line errors, exit code 2. */
import { parseArgs } from 'node:util';

export function scriptArgs<T extends Record<string, { type: 'string'; default?: string }>>(
  usage: string,
  options: T,
): Record<keyof T, string | undefined> {
  try {
    const { values } = parseArgs({ options, allowPositionals: false, strict: true });
    return values as unknown as Record<keyof T, string | undefined>;
  } catch (error) {
    fail(`${(error as Error).message}\nusage: ${usage}`);
  }
}

export function positiveInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

export function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}
