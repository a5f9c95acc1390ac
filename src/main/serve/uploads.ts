/**
 * Files a browser drops into `pollard serve` arrive one PUT each, grouped in a batch the
 * browser names; each is streamed to `<uploads>/<batch>/<path>.<random>.part` and renamed
 * when complete, so a half-received file is never seen. `finish` seals the batch and says
 * which path the engine should open.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { usageError } from '../../shared/errors';

export interface UploadLimits {
  /** Bytes per file. */
  fileBytes: number;
  /** Bytes per batch. */
  batchBytes: number;
  /** Files per batch. */
  batchFiles: number;
}

const GiB = 1024 ** 3;
export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  fileBytes: 2 * GiB,
  batchBytes: 4 * GiB,
  batchFiles: 10_000,
};

/** An upload refused with an HTTP status (413 for limits, 409 for conflicts, 400 otherwise). */
export class UploadError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'UploadError';
  }
}

interface Batch {
  dir: string;
  bytes: number;
  /** Relative path → bytes of each file received or being received. */
  files: Map<string, number>;
  active: number;
  sealed: boolean;
  /** Settles once the batch folder exists (or could not be made). */
  ready: Promise<void>;
}

function describeSize(bytes: number): string {
  return bytes >= GiB ? `${+(bytes / GiB).toFixed(2)} GiB` : `${bytes} bytes`;
}

export class UploadStore {
  private readonly batches = new Map<string, Batch>();

  constructor(
    readonly root: string,
    readonly limits: UploadLimits = DEFAULT_UPLOAD_LIMITS,
  ) {}

  /**
   * Stream one file into a batch. `segments` are already sanitised (see upload-path.ts);
   * `declaredBytes` is the Content-Length when the client sent one.
   */
  async receive(
    batchId: string,
    segments: readonly string[],
    body: Readable,
    declaredBytes: number | undefined,
  ): Promise<{ path: string; bytes: number }> {
    const relative = segments.join('/');
    const batch = await this.openBatch(batchId);
    if (batch.sealed)
      throw new UploadError(409, `upload batch ${batchId} is already finished; start a new batch`);
    const previous = batch.files.get(relative);
    if (previous === undefined && batch.files.size >= this.limits.batchFiles) {
      throw new UploadError(413, `upload batch ${batchId}: more than ${this.limits.batchFiles} files`);
    }
    if (declaredBytes !== undefined) this.checkLimits(batch, batchId, relative, declaredBytes, previous ?? 0);

    const target = path.join(batch.dir, ...segments);
    if (!target.startsWith(batch.dir + path.sep))
      throw new UploadError(400, `upload ${relative}: outside the batch`);
    try {
      await fs.mkdir(path.dirname(target), { recursive: true });
    } catch {
      throw new UploadError(409, `upload ${relative}: a file of this batch is in the way of its folder`);
    }
    const temp = `${target}.${randomBytes(4).toString('hex')}.part`;
    batch.files.set(relative, previous ?? 0);
    batch.bytes -= previous ?? 0;
    batch.active += 1;
    let received = 0;
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        received += chunk.length;
        batch.bytes += chunk.length;
        try {
          this.checkLimits(batch, batchId, relative, received, 0, true);
        } catch (error) {
          callback(error as Error);
          return;
        }
        callback(null, chunk);
      },
    });
    try {
      await pipeline(body, counter, createWriteStream(temp, { flags: 'wx' }));
      if (declaredBytes !== undefined && received !== declaredBytes) {
        throw new UploadError(400, `upload ${relative}: received ${received} of ${declaredBytes} bytes`);
      }
      await fs.rename(temp, target);
      batch.files.set(relative, received);
      return { path: relative, bytes: received };
    } catch (error) {
      await fs.rm(temp, { force: true }).catch(() => undefined);
      batch.bytes -= received;
      // A failed replacement leaves the earlier copy of the file in place.
      if (previous === undefined) batch.files.delete(relative);
      else {
        batch.files.set(relative, previous);
        batch.bytes += previous;
      }
      if (error instanceof UploadError) throw error;
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
        throw new UploadError(507, `upload ${relative}: no space left on the server's disk`);
      }
      throw new UploadError(400, `upload ${relative}: ${(error as Error).message}`);
    } finally {
      batch.active -= 1;
    }
  }

  /**
   * Seal a batch; the path to open is the single file when there is one, else the deepest
   * folder that holds every file (a dropped folder comes back as that folder).
   */
  async finish(batchId: string): Promise<string> {
    const batch = this.batches.get(batchId);
    if (!batch) throw usageError(`finishUpload: no upload batch ${batchId} in this session`);
    if (batch.active > 0)
      throw usageError(`finishUpload: ${batch.active} file(s) of batch ${batchId} are still uploading`);
    const files = [...batch.files.keys()];
    if (files.length === 0) throw usageError(`finishUpload: batch ${batchId} holds no files`);
    batch.sealed = true;
    if (files.length === 1) return path.join(batch.dir, ...files[0]!.split('/'));
    const folders = files.map((file) => file.split('/').slice(0, -1));
    const common: string[] = [];
    for (let i = 0; folders.every((f) => i < f.length && f[i] === folders[0]![i]); i++)
      common.push(folders[0]![i]!);
    return path.join(batch.dir, ...common);
  }

  private async openBatch(batchId: string): Promise<Batch> {
    const known = this.batches.get(batchId);
    if (known) {
      await known.ready;
      return known;
    }
    const dir = path.join(path.resolve(this.root), batchId);
    const ready = (async () => {
      if (await fs.stat(dir).catch(() => undefined)) {
        throw new UploadError(
          409,
          `upload batch ${batchId} belongs to an earlier session; start a new batch`,
        );
      }
      await fs.mkdir(dir, { recursive: true });
    })();
    const batch: Batch = { dir, bytes: 0, files: new Map(), active: 0, sealed: false, ready };
    // Registered before any await, so concurrent PUTs of a new batch share one check.
    this.batches.set(batchId, batch);
    try {
      await ready;
    } catch (error) {
      this.batches.delete(batchId);
      throw error;
    }
    return batch;
  }

  private checkLimits(
    batch: Batch,
    batchId: string,
    relative: string,
    fileBytes: number,
    replacedBytes: number,
    counted = false,
  ): void {
    if (fileBytes > this.limits.fileBytes) {
      throw new UploadError(
        413,
        `upload ${relative}: larger than the ${describeSize(this.limits.fileBytes)} limit per file`,
      );
    }
    const batchBytes = counted ? batch.bytes : batch.bytes - replacedBytes + fileBytes;
    if (batchBytes > this.limits.batchBytes) {
      throw new UploadError(
        413,
        `upload batch ${batchId}: larger than the ${describeSize(this.limits.batchBytes)} limit per batch`,
      );
    }
  }
}
