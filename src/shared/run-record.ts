/**
 * The one rule for which folder belongs to a job, and the one schema of run.json: the host
 * writes it (services/runs.ts) and every reader validates it with `parseRunRecord`.
 */
import { z } from 'zod';
import { ioError, type SerializedError } from './errors';
import { type JobKind, type JobSpec, jobSpecSchema } from './jobs';

/** A job's run folder: its `out`, except a report's (a report writes into an existing run or a file). */
export function runDirOf(spec: JobSpec): string | undefined {
  if (spec.kind === 'report') return undefined;
  return 'out' in spec ? spec.out : undefined;
}

const JOB_KINDS = jobSpecSchema.options.map((o) => o.shape.kind.value) as [JobKind, ...JobKind[]];

export const RUN_STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;

const backendNameSchema = z.enum(['tensorflow', 'webgpu', 'wasm', 'cpu']);

const backendReportSchema = z.object({
  used: backendNameSchema,
  device: z.string(),
  rungs: z.array(
    z.object({
      name: backendNameSchema,
      status: z.enum(['used', 'available', 'unavailable', 'not-tried']),
      reason: z.string().optional(),
      device: z.string().optional(),
    }),
  ),
});

const serializedErrorSchema = z.custom<SerializedError>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { message?: unknown }).message === 'string',
  'expected an error with a code and a message',
);

/** run.json. The spec is the job's own schema, so a resumed run starts from a valid spec. */
export const runRecordSchema = z.object({
  format: z.literal('pollard-run/1'),
  id: z.string().min(1),
  kind: z.enum(JOB_KINDS),
  spec: jobSpecSchema,
  status: z.enum(RUN_STATUSES),
  createdAt: z.string().min(1),
  updatedAt: z.string().min(1),
  pid: z.number().int().optional(),
  hostPid: z.number().int(),
  seed: z.number(),
  pollardVersion: z.string(),
  versions: z.record(z.string(), z.string()).optional(),
  backend: backendReportSchema.optional(),
  command: z.array(z.string()).optional(),
  result: z.record(z.string(), z.unknown()).optional(),
  error: serializedErrorSchema.optional(),
  resumes: z.number().int().min(0),
});
export type StoredRunRecord = z.infer<typeof runRecordSchema>;

/** Parses run.json's text; a damaged file throws naming the file and the first bad field. */
export function parseRunRecord(file: string, text: string): StoredRunRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw ioError(file, 'is not valid JSON');
  }
  const parsed = runRecordSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'the record';
    throw ioError(file, `is not a valid Pollard run record: ${where}: ${issue?.message ?? 'invalid'}`);
  }
  return parsed.data;
}
