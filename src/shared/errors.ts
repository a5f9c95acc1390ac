/**
 * Errors that cross process boundaries travel as data (`SerializedError`) and are rebuilt on
 * the other side as `PollardError`. A user-facing message always names the file and the
 * problem: `<file>: <problem>`.
 */
export type ErrorCode =
  /** The input file or folder is malformed, inconsistent or unsafe. */
  | 'bad-input'
  /** The input is well formed but uses something Pollard does not support (a layer, a format). */
  | 'unsupported'
  /** Reading or writing failed (permission denied, disk full, missing file). */
  | 'io'
  /** Bad command-line or API arguments. */
  | 'usage'
  | 'cancelled'
  /** Training produced NaN or Inf. */
  | 'non-finite'
  /** The device ran out of memory. */
  | 'oom'
  /** The job process died. */
  | 'crash'
  | 'internal';

export interface SerializedError {
  code: ErrorCode;
  message: string;
  file?: string;
  stack?: string;
}

export class PollardError extends Error {
  readonly code: ErrorCode;
  readonly file: string | undefined;

  constructor(code: ErrorCode, message: string, file?: string) {
    super(message);
    this.name = 'PollardError';
    this.code = code;
    this.file = file;
  }

  toJSON(): SerializedError {
    return { code: this.code, message: this.message, file: this.file, stack: this.stack };
  }

  static from(serialized: SerializedError): PollardError {
    const error = new PollardError(serialized.code, serialized.message, serialized.file);
    if (serialized.stack !== undefined) error.stack = serialized.stack;
    return error;
  }
}

/** A malformed or unsafe input: `<file>: <problem>`. */
export function badInput(file: string, problem: string): PollardError {
  return new PollardError('bad-input', `${file}: ${problem}`, file);
}

/** A well-formed input that uses something Pollard does not support. */
export function unsupported(file: string, problem: string): PollardError {
  return new PollardError('unsupported', `${file}: ${problem}`, file);
}

export function ioError(file: string, problem: string): PollardError {
  return new PollardError('io', `${file}: ${problem}`, file);
}

export function usageError(problem: string): PollardError {
  return new PollardError('usage', problem);
}

/** Any thrown value as data, keeping a PollardError's code and file. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof PollardError) return error.toJSON();
  if (error instanceof Error) {
    const oom = /\bOOM\b|out of memory|OOM when allocating/i.test(error.message);
    return { code: oom ? 'oom' : 'internal', message: error.message, stack: error.stack };
  }
  return { code: 'internal', message: String(error) };
}
