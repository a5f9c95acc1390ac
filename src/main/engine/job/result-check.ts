/**
 * A job's result checked against its kind's schema (src/shared/job-results.ts) before it leaves
 * the job process. Under the tests (or POLLARD_CHECK_RESULTS=1) a mismatch fails the job, so a
 * result the engine writes differently from the schema cannot pass; in use it is logged as a
 * warning and the result still goes out, since the user's run is worth more than the check.
 */
import { checkJobResult, type ResultOf } from '../../../shared/job-results';
import type { JobKind } from '../../../shared/jobs';
import type { JobContext } from './context';

export function strictResultChecks(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.VITEST !== undefined || env.POLLARD_CHECK_RESULTS === '1';
}

export function checkedResult<K extends JobKind>(
  kind: K,
  result: ResultOf<K>,
  log: JobContext['log'],
  strict = strictResultChecks(),
): ResultOf<K> {
  try {
    return checkJobResult(kind, result);
  } catch (error) {
    if (strict) throw error;
    log('warn', error instanceof Error ? error.message : String(error));
    return result;
  }
}
