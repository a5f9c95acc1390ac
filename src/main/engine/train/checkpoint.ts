/**
 * Training checkpoints: two generations, each a folder written whole and renamed into place.
 *
 *   checkpoints/ckpt-000003-0000/   (epoch 3 done, 0 batches into epoch 4)
 *     state.json     epoch, batch, RNG state, history, learning rate, SHA-256 of the blobs
 *     weights.bin    every model weight (trainable and not), float32/int32 as stored
 *     optimizer.bin  the optimizer's slots and iteration counter
 *
 * A reader picks the newest generation whose state parses and whose blobs match their
 * SHA-256, so a crash during a write (or a corrupt newest file) falls back to the previous
 * generation, as Keras' BackupAndRestore does.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ioError } from '../../../shared/errors';
import { writeFileAtomic } from '../../util/atomic';
import { tf } from '../tf';

export const CHECKPOINT_FORMAT = 'pollard-checkpoint/1';
const GENERATIONS = 2;

export interface TensorRecord {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  /** Byte offset in the blob. */
  offset: number;
  bytes: number;
}

export interface CheckpointState<Extra = unknown> {
  format: typeof CHECKPOINT_FORMAT;
  /** Epochs fully completed. */
  epoch: number;
  /** Batches completed in epoch `epoch + 1` (non-zero only for a checkpoint taken on cancel). */
  batch: number;
  createdAt: string;
  weights: { sha256: string; tensors: TensorRecord[] };
  optimizer: { sha256: string; tensors: TensorRecord[] };
  /** Loop state (RNG, history, early stopping, partial-epoch sums), opaque here. */
  extra: Extra;
}

export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

export interface LoadedCheckpoint<Extra = unknown> {
  dir: string;
  state: CheckpointState<Extra>;
  weights: NamedTensor[];
  optimizer: NamedTensor[];
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

async function packTensors(tensors: NamedTensor[]): Promise<{ blob: Uint8Array; records: TensorRecord[] }> {
  const parts: Uint8Array[] = [];
  const records: TensorRecord[] = [];
  let offset = 0;
  for (const { name, tensor } of tensors) {
    const dtype = tensor.dtype === 'int32' ? 'int32' : 'float32';
    const values = await tensor.data();
    const typed = dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
    const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
    parts.push(bytes);
    records.push({ name, shape: tensor.shape.slice(), dtype, offset, bytes: bytes.byteLength });
    offset += bytes.byteLength;
  }
  const blob = new Uint8Array(offset);
  let at = 0;
  for (const part of parts) {
    blob.set(part, at);
    at += part.byteLength;
  }
  return { blob, records };
}

function unpackTensors(blob: Uint8Array, records: TensorRecord[], file: string): NamedTensor[] {
  return records.map((record) => {
    const size = record.shape.reduce((a, b) => a * b, 1);
    if (record.bytes !== size * 4 || record.offset + record.bytes > blob.byteLength) {
      throw ioError(file, `tensor ${record.name} does not fit the file`);
    }
    const copy = blob.slice(record.offset, record.offset + record.bytes);
    const values = record.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
    return { name: record.name, tensor: tf.tensor(values, record.shape, record.dtype) };
  });
}

function generationName(epoch: number, batch: number): string {
  return `ckpt-${String(epoch).padStart(6, '0')}-${String(batch).padStart(6, '0')}`;
}

/** Checkpoint folders, newest first. */
export async function listCheckpoints(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(root);
  } catch {
    return [];
  }
  return names
    .filter((name) => /^ckpt-\d{6}-\d{6}$/.test(name))
    .sort()
    .reverse()
    .map((name) => path.join(root, name));
}

/** Write a new generation, then drop generations beyond the newest two. */
export async function writeCheckpoint<Extra>(
  root: string,
  input: { epoch: number; batch: number; weights: NamedTensor[]; optimizer: NamedTensor[]; extra: Extra },
): Promise<string> {
  const weights = await packTensors(input.weights);
  const optimizer = await packTensors(input.optimizer);
  const state: CheckpointState<Extra> = {
    format: CHECKPOINT_FORMAT,
    epoch: input.epoch,
    batch: input.batch,
    createdAt: new Date().toISOString(),
    weights: { sha256: sha256(weights.blob), tensors: weights.records },
    optimizer: { sha256: sha256(optimizer.blob), tensors: optimizer.records },
    extra: input.extra,
  };
  await fs.mkdir(root, { recursive: true }).catch((error: unknown) => {
    throw ioError(root, `could not create the checkpoint folder: ${(error as Error).message}`);
  });
  const finalDir = path.join(root, generationName(input.epoch, input.batch));
  const tempDir = path.join(root, `.tmp-${randomBytes(6).toString('hex')}`);
  try {
    await fs.mkdir(tempDir);
    await writeFileAtomic(path.join(tempDir, 'weights.bin'), weights.blob);
    await writeFileAtomic(path.join(tempDir, 'optimizer.bin'), optimizer.blob);
    // state.json last: a folder without it is incomplete by construction.
    await writeFileAtomic(path.join(tempDir, 'state.json'), JSON.stringify(state));
    await fs.rm(finalDir, { recursive: true, force: true });
    await fs.rename(tempDir, finalDir);
  } catch (error) {
    await fs.rm(tempDir, { recursive: true, force: true }).catch(() => undefined);
    if (error instanceof Error && error.name === 'PollardError') throw error;
    throw ioError(finalDir, `could not write the checkpoint: ${(error as Error).message}`);
  }
  const all = await listCheckpoints(root);
  for (const stale of all.slice(GENERATIONS)) await fs.rm(stale, { recursive: true, force: true });
  // Leftovers of a write that was killed half-way.
  for (const name of await fs.readdir(root)) {
    if (name.startsWith('.tmp-')) await fs.rm(path.join(root, name), { recursive: true, force: true });
  }
  return finalDir;
}

async function readGeneration<Extra>(dir: string): Promise<LoadedCheckpoint<Extra>> {
  const stateFile = path.join(dir, 'state.json');
  const state = JSON.parse(await fs.readFile(stateFile, 'utf8')) as CheckpointState<Extra>;
  if (state.format !== CHECKPOINT_FORMAT)
    throw ioError(stateFile, `unknown checkpoint format ${String(state.format)}`);
  const weightsFile = path.join(dir, 'weights.bin');
  const optimizerFile = path.join(dir, 'optimizer.bin');
  const weightsBlob = new Uint8Array(await fs.readFile(weightsFile));
  const optimizerBlob = new Uint8Array(await fs.readFile(optimizerFile));
  if (sha256(weightsBlob) !== state.weights.sha256) throw ioError(weightsFile, 'SHA-256 mismatch (corrupt)');
  if (sha256(optimizerBlob) !== state.optimizer.sha256)
    throw ioError(optimizerFile, 'SHA-256 mismatch (corrupt)');
  return {
    dir,
    state,
    weights: unpackTensors(weightsBlob, state.weights.tensors, weightsFile),
    optimizer: unpackTensors(optimizerBlob, state.optimizer.tensors, optimizerFile),
  };
}

/**
 * The newest checkpoint that reads back whole, or undefined when there is none.
 * `skipped` lists the generations passed over and why.
 */
export async function readLatestCheckpoint<Extra>(
  root: string,
): Promise<{ checkpoint: LoadedCheckpoint<Extra> | undefined; skipped: { dir: string; reason: string }[] }> {
  const skipped: { dir: string; reason: string }[] = [];
  for (const dir of await listCheckpoints(root)) {
    try {
      return { checkpoint: await readGeneration<Extra>(dir), skipped };
    } catch (error) {
      skipped.push({ dir, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return { checkpoint: undefined, skipped };
}

export function disposeCheckpoint(checkpoint: LoadedCheckpoint): void {
  for (const { tensor } of [...checkpoint.weights, ...checkpoint.optimizer]) tensor.dispose();
}
