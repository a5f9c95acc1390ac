/**
 * The app's settings, kept in `<data dir>/settings.json` and replaced atomically on every
 * change. A file edited by hand with a bad field loses only that field (back to its default),
 * and the problem is reported once in `warnings`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { type Settings, type SettingsPatch, settingsPatchSchema } from '../../shared/api';
import { ioError } from '../../shared/errors';
import { writeJsonAtomic } from '../util/atomic';

export const SETTINGS_FILE = 'settings.json';

export function defaultSettings(dataDir: string): Settings {
  return {
    backend: 'auto',
    threads: null,
    runsDirectory: path.join(dataDir, 'runs'),
    gridCountry: null,
    gridIntensityOverride: null,
    cpuWatts: null,
    energyMode: 'quick',
    pue: 1,
    theme: 'system',
    uploadMaxAgeDays: 30,
    uploadMaxTotalGiB: 20,
  };
}

/** Merge a validated patch; a relative runs folder is taken relative to the data folder. */
export function applySettingsPatch(settings: Settings, patch: SettingsPatch, dataDir: string): Settings {
  const next: Settings = { ...settings, ...patch };
  next.runsDirectory = path.resolve(dataDir, next.runsDirectory);
  if (next.gridCountry !== null) next.gridCountry = next.gridCountry.toUpperCase();
  return next;
}

export class SettingsStore {
  readonly file: string;
  readonly warnings: string[] = [];
  private current: Settings;
  private writing: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dataDir: string,
    settings: Settings,
  ) {
    this.file = path.join(dataDir, SETTINGS_FILE);
    this.current = settings;
  }

  /** Read the settings file (a missing file means defaults). */
  static async open(dataDir: string): Promise<SettingsStore> {
    const store = new SettingsStore(dataDir, defaultSettings(dataDir));
    let text: string | undefined;
    try {
      text = await fs.readFile(store.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        store.warnings.push(`${store.file}: could not read (${(error as Error).message}); using defaults`);
      }
    }
    if (text !== undefined) store.current = store.parse(text);
    return store;
  }

  get(): Settings {
    return { ...this.current };
  }

  /** Apply a patch (already validated by the caller's schema) and persist it. */
  async update(patch: SettingsPatch): Promise<Settings> {
    const next = applySettingsPatch(this.current, settingsPatchSchema.parse(patch), this.dataDir);
    const write = this.writing.then(async () => {
      try {
        await fs.mkdir(this.dataDir, { recursive: true });
      } catch (error) {
        throw ioError(this.dataDir, `could not create the data folder: ${(error as Error).message}`);
      }
      await writeJsonAtomic(this.file, next);
    });
    this.writing = write.catch(() => undefined);
    await write;
    this.current = next;
    return this.get();
  }

  private parse(text: string): Settings {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      this.warnings.push(`${this.file}: is not valid JSON; using defaults`);
      return defaultSettings(this.dataDir);
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      this.warnings.push(`${this.file}: is not a JSON object; using defaults`);
      return defaultSettings(this.dataDir);
    }
    const patch: Record<string, unknown> = {};
    const shape = settingsPatchSchema.shape;
    for (const [key, value] of Object.entries(raw)) {
      const field = Object.prototype.hasOwnProperty.call(shape, key)
        ? shape[key as keyof typeof shape]
        : undefined;
      if (!field) {
        this.warnings.push(`${this.file}: unknown setting "${key}" ignored`);
        continue;
      }
      const parsed = field.safeParse(value);
      if (parsed.success) patch[key] = parsed.data;
      else
        this.warnings.push(
          `${this.file}: ${key}: ${parsed.error.issues[0]?.message ?? 'invalid'}; using the default`,
        );
    }
    return applySettingsPatch(defaultSettings(this.dataDir), patch as SettingsPatch, this.dataDir);
  }
}
