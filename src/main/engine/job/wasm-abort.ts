import { PollardError } from '../../../shared/errors';

/**
 * A WebAssembly abort outside the training loop (which names its model itself): the job, its
 * input and the likely cause, instead of "Aborted(). Build with -sASSERTIONS for more info."
 */
export function wasmAbortInJob(spec: unknown, error: unknown): PollardError {
  const fields = (spec ?? {}) as { kind?: unknown; model?: unknown; data?: unknown; out?: unknown };
  const file = [fields.model, fields.data].find((v): v is string => typeof v === 'string');
  const detail = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  return new PollardError(
    'oom',
    `${file ?? 'the job'}: WebAssembly aborted during ${String(fields.kind ?? 'the job')}: most likely its memory ` +
      `(at most 4 GiB) ran out; try a smaller --batch-size.` +
      (typeof fields.out === 'string' ? ` Checkpoints already in ${fields.out} are intact.` : '') +
      ` (${detail})`,
    file,
  );
}
