/**
 * The calls a host accepts from a renderer, with one zod schema per method's argument list.
 * `pollard serve` (HTTP) and the Electron main process (IPC) both dispatch through here, so
 * both validate every argument the same way before anything runs.
 */
import path from 'node:path';
import { z } from 'zod';
import {
  type ApiResponse,
  exportRequestSchema,
  FINISH_UPLOAD_METHOD,
  pathSchema,
  settingsPatchSchema,
} from '../../shared/api';
import { PollardError, serializeError, usageError } from '../../shared/errors';
import { jobSpecSchema, planSpecSchema } from '../../shared/jobs';

export const absolutePathSchema = pathSchema
  .refine((value) => !value.includes('\0'), 'must not contain NUL characters')
  .refine((value) => path.isAbsolute(value), 'must be an absolute path');

/**
 * A job spec as the UI sends it: like JobSpec, but `out` may be left out (the host assigns a
 * new folder under the runs directory). Built from jobSpecSchema so new kinds follow along.
 */
export const jobRequestSchema = z.discriminatedUnion(
  'kind',
  jobSpecSchema.options.map((option) =>
    'out' in option.shape ? option.extend({ out: z.string().min(1).max(4096).optional() }) : option,
  ) as unknown as typeof jobSpecSchema.options,
);

export const PICK_KINDS = [
  'dataset-file',
  'dataset-folder',
  'model-file',
  'model-folder',
  'export-folder',
] as const;
export type PickKind = (typeof PICK_KINDS)[number];

/** The batch id a browser chooses for an upload: 32 lowercase hex characters. */
export const batchIdSchema = z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 lowercase hex characters');

/** Every method a host may dispatch, with the schemas of its arguments in order. */
export const API_ARGUMENTS = {
  getSystemInfo: [],
  getSettings: [],
  updateSettings: [settingsPatchSchema],
  pickPath: [z.enum(PICK_KINDS)],
  describeDataset: [absolutePathSchema],
  inspectModel: [absolutePathSchema],
  planCompression: [planSpecSchema],
  startJob: [jobRequestSchema],
  cancelJob: [z.string().min(1).max(100)],
  listJobs: [],
  listRuns: [],
  getRun: [absolutePathSchema],
  getRunEvents: [absolutePathSchema],
  resumeRun: [absolutePathSchema],
  exportRun: [exportRequestSchema],
  openFolder: [absolutePathSchema],
  openReport: [absolutePathSchema],
  /** Electron: the paths the preload read from dropped or chosen files. */
  resolveFiles: [z.array(absolutePathSchema).min(1).max(10_000)],
  /** `pollard serve`: seal an upload batch. */
  [FINISH_UPLOAD_METHOD]: [batchIdSchema],
} as const satisfies Record<string, readonly z.ZodType[]>;

export type ApiMethod = keyof typeof API_ARGUMENTS;

type Outputs<T extends readonly z.ZodType[]> = { -readonly [I in keyof T]: z.output<T[I]> };
export type ArgsOf<M extends ApiMethod> = Outputs<(typeof API_ARGUMENTS)[M]>;

/** A host's implementation of the methods it offers; a method it leaves out is "unknown" there. */
export type ApiHandlers = {
  [M in ApiMethod]?: (...args: ArgsOf<M>) => Promise<unknown>;
};

export function isApiMethod(name: string): name is ApiMethod {
  return Object.prototype.hasOwnProperty.call(API_ARGUMENTS, name);
}

function describeIssuePath(issuePath: PropertyKey[], arity: number): string {
  const [index, ...rest] = issuePath;
  const argument = arity > 1 && typeof index === 'number' ? `argument ${index + 1}` : '';
  const field = rest.map((key) => (typeof key === 'number' ? `[${key}]` : `.${String(key)}`)).join('');
  const where = `${argument}${argument ? field : field.replace(/^\./, '')}`;
  return where === '' ? '' : `${where}: `;
}

/** Validate `args` for `method`; a failure is one line naming the method and the field. */
export function parseApiArguments<M extends ApiMethod>(method: M, args: unknown): ArgsOf<M> {
  const schemas = API_ARGUMENTS[method] as readonly z.ZodType[];
  if (!Array.isArray(args)) throw usageError(`${method}: the arguments must be an array`);
  if (args.length !== schemas.length) {
    throw usageError(
      `${method}: expected ${schemas.length} argument${schemas.length === 1 ? '' : 's'}, got ${args.length}`,
    );
  }
  const parsed = z.tuple(schemas as [z.ZodType, ...z.ZodType[]]).safeParse(args);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const detail = issue ? `${describeIssuePath(issue.path, schemas.length)}${issue.message}` : 'invalid';
    throw usageError(`${method}: ${detail}`.replace(/\s*\n\s*/g, ' '));
  }
  return parsed.data as ArgsOf<M>;
}

/**
 * Validate and run one call. Never throws: every failure becomes `{ ok: false, error }` data.
 * The caller has already checked `isApiMethod(method)` and that `handlers` offers it.
 */
export async function dispatchApiCall(
  handlers: ApiHandlers,
  method: ApiMethod,
  args: unknown,
): Promise<ApiResponse> {
  try {
    const handler = handlers[method] as ((...a: unknown[]) => Promise<unknown>) | undefined;
    if (!handler) throw usageError(`${method}: not available here`);
    const parsed = parseApiArguments(method, args) as unknown as unknown[];
    const value = await handler(...parsed);
    return { ok: true, value: value === undefined ? null : value };
  } catch (error) {
    const serialized = serializeError(error);
    // Stacks stay in the host's log; the renderer shows the message.
    delete serialized.stack;
    if (!(error instanceof PollardError)) serialized.message = serialized.message.split('\n')[0] ?? '';
    return { ok: false, error: serialized };
  }
}
