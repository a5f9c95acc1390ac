/**
 * What an engine job sees of the process it runs in: an event sink and a cancellation signal.
 * Engine functions take a JobContext instead of talking to IPC, so tests can run them in-process.
 */
import { PollardError } from '../../../shared/errors';
import type { JobEventBody } from '../../../shared/jobs';
import type { BackendReport } from '../../../shared/types';

export interface JobContext {
  emit(event: JobEventBody): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', message: string): void;
  /** Aborted on a soft cancel: stop at the next batch boundary. */
  readonly signal: AbortSignal;
  /** Throws PollardError('cancelled') once a cancel was requested. */
  throwIfCancelled(): void;
  /** The backend the ladder chose for this process. */
  readonly backend: BackendReport;
}

export function cancelledError(): PollardError {
  return new PollardError('cancelled', 'cancelled by the user');
}

/** A context that collects events in memory; for tests and in-process use. */
export function createMemoryContext(
  backend: BackendReport,
  controller = new AbortController(),
): JobContext & {
  events: JobEventBody[];
  cancel(): void;
} {
  const events: JobEventBody[] = [];
  return {
    events,
    backend,
    signal: controller.signal,
    emit: (event) => events.push(event),
    log: (level, message) => events.push({ type: 'log', level, message }),
    throwIfCancelled() {
      if (controller.signal.aborted) throw cancelledError();
    },
    cancel: () => controller.abort(),
  };
}
