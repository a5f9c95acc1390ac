/**
 * Dropped and chosen files, with the folder structure they came in. A browser gives a chosen
 * folder's files a `webkitRelativePath`; a dropped folder has to be walked through its
 * FileSystemEntry tree, and its files get their relative path recorded here so the HTTP bridge
 * can upload them into the same layout.
 */

const relativePaths = new WeakMap<File, string>();

export function setRelativePath(file: File, relativePath: string): void {
  relativePaths.set(file, relativePath);
}

/** The path a file should have inside its upload batch: "images/cat/1.png", or just its name. */
export function relativePathOf(file: File): string {
  return relativePaths.get(file) || file.webkitRelativePath || file.name;
}

function readEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => reader.readEntries(resolve, reject));
}

function fileOf(entry: FileSystemFileEntry): Promise<File> {
  return new Promise((resolve, reject) => entry.file(resolve, reject));
}

async function walk(entry: FileSystemEntry, prefix: string, out: File[]): Promise<void> {
  if (entry.isFile) {
    const file = await fileOf(entry as FileSystemFileEntry);
    setRelativePath(file, prefix + entry.name);
    out.push(file);
    return;
  }
  if (!entry.isDirectory) return;
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns at most 100 entries per call; call it until it returns none.
  for (;;) {
    const batch = await readEntries(reader);
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, `${prefix}${entry.name}/`, out);
  }
}

/**
 * The files of a drop. `walkFolders`: expand dropped folders into their files (the browser,
 * which uploads them); otherwise keep the dropped items as they are (Electron reads their paths).
 */
export async function filesFromDrop(transfer: DataTransfer, walkFolders: boolean): Promise<File[]> {
  if (walkFolders && transfer.items.length > 0) {
    const entries = Array.from(transfer.items)
      .filter((item) => item.kind === 'file')
      .map((item) => item.webkitGetAsEntry?.() ?? null);
    if (entries.length > 0 && entries.every((e) => e !== null)) {
      const files: File[] = [];
      for (const entry of entries) await walk(entry!, '', files);
      return files;
    }
  }
  return Array.from(transfer.files);
}
