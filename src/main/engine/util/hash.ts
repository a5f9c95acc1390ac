/** SHA-256 of an input for reproducibility records: a file, or a folder's files in a stable order. */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';

async function hashFileInto(hash: ReturnType<typeof createHash>, file: string): Promise<void> {
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
}

async function listFiles(root: string, dir = root, out: string[] = []): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await listFiles(root, full, out);
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

/**
 * A file: the SHA-256 of its bytes (what `sha256sum` prints). A folder: the SHA-256 over
 * "relative path\0file SHA-256\n" lines in byte order of the paths, so renaming or editing any
 * file changes it.
 */
export async function sha256OfPath(target: string): Promise<string> {
  const stat = await fs.stat(target);
  if (!stat.isDirectory()) {
    const hash = createHash('sha256');
    await hashFileInto(hash, target);
    return hash.digest('hex');
  }
  const outer = createHash('sha256');
  for (const file of await listFiles(target)) {
    const inner = createHash('sha256');
    await hashFileInto(inner, file);
    outer.update(`${path.relative(target, file).split(path.sep).join('/')}\0${inner.digest('hex')}\n`);
  }
  return outer.digest('hex');
}
