/**
 * Running one job from the command line: the model checked before anything is created, the
 * job in its own process, progress on stderr, the result (or `--json`) on stdout, Ctrl-C as
 * cancel at the next batch boundary, and one-line errors with the exit codes of the contract.
 */
import { promises as fs } from 'node:fs';
import { ioError, type SerializedError } from '../../shared/errors';
import { type ReportResult, resultOfKind } from '../../shared/job-results';
import type { JobSpec, ReportFormat, SpecOf } from '../../shared/jobs';
import { runJob } from '../services/jobs';
import { formatResult } from './format';
import { type CommonFlags, parseSpec } from './options';
import { ProgressPrinter } from './progress';

/** What `compress` writes beside its run: the PDF stays a `pollard report --format pdf` away (it needs Chromium). */
const COMPRESS_REPORT_FORMATS: readonly ReportFormat[] = ['html', 'json', 'csv'];

export const EXIT = { ok: 0, failed: 1, usage: 2, cancelled: 130 } as const;

/** A model path that does not exist fails here, before a job process or a run folder exists. */
async function checkModelExists(spec: JobSpec): Promise<void> {
  if (!('model' in spec) || typeof spec.model !== 'string') return;
  try {
    await fs.stat(spec.model);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw ioError(spec.model, 'no such file or folder');
  }
}

export async function execute(spec: JobSpec, flags: CommonFlags): Promise<number> {
  await checkModelExists(spec);
  const printer = new ProgressPrinter(process.stderr, flags.verbose ?? false);
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts += 1;
    if (interrupts === 1) {
      process.stderr.write('\ncancelling at the next batch boundary (Ctrl-C again to stop at once)…\n');
      controller.abort();
    } else {
      process.exit(EXIT.cancelled);
    }
  };
  process.on('SIGINT', onSigint);
  try {
    const { outcome } = await runJob(spec, {
      onEvent: (event) => printer.handle(event),
      signal: controller.signal,
      command: ['pollard', ...process.argv.slice(2)],
      graceMs: 15_000,
    });
    printer.end();
    if (outcome.status === 'completed') {
      const report = spec.kind === 'compress' ? await writeReport(spec, flags, printer) : undefined;
      if (flags.json) {
        const printed = report ? { ...outcome.result, energyReport: report.result } : outcome.result;
        process.stdout.write(JSON.stringify(printed) + '\n');
      } else {
        process.stdout.write(formatResult(outcome.result));
        if (report) process.stdout.write(formatResult(report.result));
      }
      return EXIT.ok;
    }
    if (outcome.status === 'cancelled') return reportCancelled(spec, flags);
    return reportError(outcome.error, flags);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/**
 * After `compress`, the run's energy-savings report (HTML, JSON, CSV in <out>/report/), so the
 * energy figures printed are the report's own. A failed report costs the report, not the run.
 */
async function writeReport(
  compress: SpecOf<'compress'>,
  flags: CommonFlags,
  printer: ProgressPrinter,
): Promise<{ result: ReportResult } | undefined> {
  const spec = parseSpec({
    kind: 'report',
    run: compress.out,
    formats: [...COMPRESS_REPORT_FORMATS],
    backend: compress.backend,
    verbose: compress.verbose,
  });
  const { outcome } = await runJob(spec, { onEvent: (event) => printer.handle(event), graceMs: 15_000 });
  printer.end();
  const result = outcome.status === 'completed' ? resultOfKind('report', outcome.result) : undefined;
  if (result) return { result };
  const why =
    outcome.status === 'failed'
      ? outcome.error.message.split('\n')[0]
      : outcome.status === 'cancelled'
        ? 'cancelled'
        : 'the report job returned no report';
  process.stderr.write(`pollard: the compression is saved, but its report was not written: ${why}\n`);
  if (flags.verbose && outcome.status === 'failed' && outcome.error.stack)
    process.stderr.write(outcome.error.stack + '\n');
  return undefined;
}

function reportCancelled(spec: JobSpec, flags: CommonFlags): number {
  const out = 'out' in spec ? spec.out : undefined;
  const hint = out && 'resume' in spec ? `; continue with: pollard ${spec.kind} --resume ${out}` : '';
  process.stderr.write(`pollard: cancelled${hint}\n`);
  if (flags.json)
    process.stdout.write(JSON.stringify({ cancelled: true, ...(out ? { runDir: out } : {}) }) + '\n');
  return EXIT.cancelled;
}

export function reportError(error: SerializedError, flags: Pick<CommonFlags, 'verbose' | 'json'>): number {
  process.stderr.write(`pollard: ${error.message.split('\n')[0]}\n`);
  if (flags.verbose && error.stack) process.stderr.write(error.stack + '\n');
  if (flags.json)
    process.stdout.write(
      JSON.stringify({ error: { code: error.code, message: error.message, file: error.file } }) + '\n',
    );
  return error.code === 'usage' ? EXIT.usage : EXIT.failed;
}
