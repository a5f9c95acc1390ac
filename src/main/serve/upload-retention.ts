/**
 * Retention of `pollard serve`'s uploads (Settings: uploadMaxAgeDays, uploadMaxTotalGiB).
 * Each upload batch is a folder `<uploads>/<batch>/`. A batch is removed when it is older than
 * the age limit, and then oldest first while the folder holds more than the size limit, except:
 *  - a batch any kept run refers to (a path in its spec: data, model, dense run, …) is never
 *    removed, whatever its age or size;
 *  - a batch touched within the last hour may still be receiving files, and is left alone.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface RetentionPolicy {
  /** Remove batches older than this many days; null keeps them whatever their age. */
  maxAgeDays: number | null;
  /** Keep the uploads folder under this many bytes; null: no size limit. */
  maxTotalBytes: number | null;
}

export interface RetentionOutcome {
  removed: { batch: string; bytes: number; reason: 'age' | 'size' }[];
  kept: number;
  /** Bytes left in the uploads folder. */
  totalBytes: number;
}

/** Batches younger than this are never removed (an upload may be in progress). */
export const ACTIVE_GRACE_MS = 60 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

interface BatchInfo {
  name: string;
  bytes: number;
  /** Newest modification time inside the batch (ms). */
  touched: number;
}

async function measure(dir: string): Promise<{ bytes: number; touched: number }> {
  let bytes = 0;
  let touched = (await fs.lstat(dir)).mtimeMs;
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const child = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = await measure(child);
      bytes += inner.bytes;
      touched = Math.max(touched, inner.touched);
    } else if (entry.isFile()) {
      const stat = await fs.lstat(child);
      bytes += stat.size;
      touched = Math.max(touched, stat.mtimeMs);
    }
  }
  return { bytes, touched };
}

/** Every string in a run spec (nested), the paths among them. */
function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) stringsIn(item, out);
  else if (value !== null && typeof value === 'object')
    for (const item of Object.values(value)) stringsIn(item, out);
  return out;
}

/** The batch names under `uploadsDir` that the given run specs refer to. */
export function referencedBatches(uploadsDir: string, specs: readonly unknown[]): Set<string> {
  const root = path.resolve(uploadsDir) + path.sep;
  const batches = new Set<string>();
  for (const spec of specs) {
    for (const text of stringsIn(spec)) {
      const resolved = path.resolve(text);
      if (!resolved.startsWith(root)) continue;
      const batch = resolved.slice(root.length).split(path.sep)[0];
      if (batch) batches.add(batch);
    }
  }
  return batches;
}

/** Applies the policy to `uploadsDir` (which may not exist yet). */
export async function applyUploadRetention(
  uploadsDir: string,
  policy: RetentionPolicy,
  referenced: ReadonlySet<string>,
  now = Date.now(),
): Promise<RetentionOutcome> {
  let names: string[];
  try {
    names = (await fs.readdir(uploadsDir, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return { removed: [], kept: 0, totalBytes: 0 };
  }
  const batches: BatchInfo[] = [];
  for (const name of names) batches.push({ name, ...(await measure(path.join(uploadsDir, name))) });
  batches.sort((a, b) => a.touched - b.touched);
  const removable = (b: BatchInfo) => !referenced.has(b.name) && now - b.touched > ACTIVE_GRACE_MS;
  const removed: RetentionOutcome['removed'] = [];
  const remove = async (b: BatchInfo, reason: 'age' | 'size') => {
    await fs.rm(path.join(uploadsDir, b.name), { recursive: true, force: true });
    removed.push({ batch: b.name, bytes: b.bytes, reason });
  };
  const left: BatchInfo[] = [];
  for (const b of batches) {
    if (policy.maxAgeDays !== null && removable(b) && now - b.touched > policy.maxAgeDays * DAY_MS) {
      await remove(b, 'age');
    } else left.push(b);
  }
  let total = left.reduce((sum, b) => sum + b.bytes, 0);
  const kept: BatchInfo[] = [];
  for (const b of left) {
    if (policy.maxTotalBytes !== null && total > policy.maxTotalBytes && removable(b)) {
      await remove(b, 'size');
      total -= b.bytes;
    } else kept.push(b);
  }
  return { removed, kept: kept.length, totalBytes: total };
}

const GiB = 1024 ** 3;

/** What retainUploads needs of the app service. */
export interface RetentionSource {
  getSettings(): Promise<{
    uploadMaxAgeDays: number | null;
    uploadMaxTotalGiB: number | null;
    runsDirectory: string;
  }>;
  listJobs(): Promise<{ spec: unknown }[]>;
}

/**
 * Applies the Settings' policy to `uploadsDir`, keeping every batch a run in the runs folder or
 * a queued or running job refers to.
 */
export async function retainUploads(
  source: RetentionSource,
  uploadsDir: string,
  runSpecs: (runsDirectory: string) => Promise<unknown[]>,
): Promise<RetentionOutcome> {
  const settings = await source.getSettings();
  const specs = [
    ...(await runSpecs(settings.runsDirectory)),
    ...(await source.listJobs()).map((job) => job.spec),
  ];
  return applyUploadRetention(
    uploadsDir,
    {
      maxAgeDays: settings.uploadMaxAgeDays,
      maxTotalBytes: settings.uploadMaxTotalGiB === null ? null : settings.uploadMaxTotalGiB * GiB,
    },
    referencedBatches(uploadsDir, specs),
  );
}
