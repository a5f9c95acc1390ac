/**
 * The wizard's place survives a reload: what was chosen (dataset, model, training options,
 * method options), the step, the run being watched and the results shown are kept in the tab's
 * sessionStorage, and the step in the URL hash (#/method). On load the choices are opened again
 * through the host (the dataset described, the model inspected) and the step restored where it
 * is reachable; a job still running in a saved run folder is re-attached by the App (watchedRunDirs),
 * and a finished explore or sensitivity run shown again (openRun, as Recent runs opens a run).
 */
import type { PollardApi, RunDetails } from '../../../shared/api';
import { readJobResult } from '../../../shared/job-results';
import {
  ARCHITECTURES,
  type ArchitectureName,
  INPUT_SCALINGS,
  type InputScaling,
  jobSpecSchema,
  type SpecOf,
} from '../../../shared/jobs';
import { DEFAULT_METHOD_CHOICE, METHODS, type MethodChoice, withMethodDefaults } from '../job-specs';
import type { JobState } from './job-state.svelte';
import { baseName, STEPS, type Step, type View, type WizardState } from './wizard.svelte';

export const SNAPSHOT_KEY = 'pollard.wizard';
const VIEWS: readonly View[] = ['wizard', 'runs', 'settings', 'about'];

export interface WizardSnapshot {
  version: 1;
  step: Step;
  view: View;
  dataset: { path: string; label: string } | null;
  limit: number | null;
  model: { path: string; label: string; baselineAccuracy: number | null } | null;
  /** The input scaling the user chose (or the file's guess); the baseline accuracy was measured with it. */
  inputScaling: InputScaling | null;
  arch: ArchitectureName;
  epochs: number;
  pruneWhileTraining: boolean;
  pruneTarget: number;
  compareDense: boolean;
  choice: MethodChoice;
  /** The run folder of the compress job on the Run step, and of a baseline being trained. */
  compressRunDir: string | null;
  trainRunDir: string | null;
  /** The Method step's explore and sensitivity runs, running or finished. */
  exploreRunDir: string | null;
  sensitivityRunDir: string | null;
  resultsRunDir: string | null;
}

export function snapshotOf(wizard: WizardState): WizardSnapshot {
  return {
    version: 1,
    step: wizard.step,
    view: wizard.view,
    dataset:
      wizard.datasetPath && wizard.datasetLabel
        ? { path: wizard.datasetPath, label: wizard.datasetLabel }
        : null,
    limit: wizard.limit,
    model:
      wizard.modelPath && wizard.modelLabel
        ? { path: wizard.modelPath, label: wizard.modelLabel, baselineAccuracy: wizard.baselineAccuracy }
        : null,
    inputScaling: wizard.inputScaling,
    arch: wizard.arch,
    epochs: wizard.epochs,
    pruneWhileTraining: wizard.pruneWhileTraining,
    pruneTarget: wizard.pruneTarget,
    compareDense: wizard.compareDense,
    choice: { ...wizard.choice, ignoredLayers: [...wizard.choice.ignoredLayers] },
    compressRunDir: wizard.compressJob?.runDir ?? null,
    trainRunDir: wizard.trainJob && !wizard.trainJob.finished ? wizard.trainJob.runDir : null,
    exploreRunDir: wizard.exploreJob?.runDir ?? wizard.exploreResult?.runDir ?? null,
    sensitivityRunDir: wizard.sensitivityJob?.runDir ?? wizard.sensitivityResult?.runDir ?? null,
    resultsRunDir: wizard.resultsRunDir,
  };
}

type Json = Record<string, unknown>;
const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const finite = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The saved snapshot, or null when there is none or it is not one (a stale or edited entry is dropped). */
export function parseSnapshot(text: string | null): WizardSnapshot | null {
  if (!text) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (!isRecord(raw) || raw.version !== 1) return null;
  const place = (v: unknown): { path: string; label: string } | null =>
    isRecord(v) && str(v.path) && str(v.label) ? { path: str(v.path)!, label: str(v.label)! } : null;
  const model = place(raw.model);
  const choice = isRecord(raw.choice) ? raw.choice : {};
  return {
    version: 1,
    step: (STEPS as readonly unknown[]).includes(raw.step) ? (raw.step as Step) : 'dataset',
    view: (VIEWS as readonly unknown[]).includes(raw.view) ? (raw.view as View) : 'wizard',
    dataset: place(raw.dataset),
    limit: finite(raw.limit),
    model: model
      ? { ...model, baselineAccuracy: isRecord(raw.model) ? finite(raw.model.baselineAccuracy) : null }
      : null,
    inputScaling: (INPUT_SCALINGS as readonly unknown[]).includes(raw.inputScaling)
      ? (raw.inputScaling as InputScaling)
      : null,
    arch: (ARCHITECTURES as readonly unknown[]).includes(raw.arch) ? (raw.arch as ArchitectureName) : 'lenet',
    epochs: finite(raw.epochs) ?? 1,
    pruneWhileTraining: raw.pruneWhileTraining === true,
    pruneTarget: finite(raw.pruneTarget) ?? 0.5,
    compareDense: raw.compareDense === true,
    // Options a later version added keep their defaults; the host validates the spec anyway.
    choice: { ...DEFAULT_METHOD_CHOICE, ...(choice as Partial<MethodChoice>) },
    compressRunDir: str(raw.compressRunDir),
    trainRunDir: str(raw.trainRunDir),
    exploreRunDir: str(raw.exploreRunDir),
    sensitivityRunDir: str(raw.sensitivityRunDir),
    resultsRunDir: str(raw.resultsRunDir),
  };
}

/** The run folders whose job, where it still runs, the reloaded page watches again. */
export function watchedRunDirs(snapshot: WizardSnapshot | null): string[] {
  if (!snapshot) return [];
  const { compressRunDir, trainRunDir, exploreRunDir, sensitivityRunDir } = snapshot;
  return [compressRunDir, trainRunDir, exploreRunDir, sensitivityRunDir].filter((d): d is string => !!d);
}

/** `#/method`, `#/runs`: where the window is, in the address. */
export function hashOf(wizard: Pick<WizardState, 'view' | 'step'>): string {
  return `#/${wizard.view === 'wizard' ? wizard.step : wizard.view}`;
}

/** The step or side view a hash names, or null. */
export function placeFromHash(hash: string): { view: View; step?: Step } | null {
  const name = hash.replace(/^#\/?/, '');
  if ((STEPS as readonly string[]).includes(name)) return { view: 'wizard', step: name as Step };
  if (name !== 'wizard' && (VIEWS as readonly string[]).includes(name)) return { view: name as View };
  return null;
}

/**
 * Open the saved choices again, then go to the saved place (the hash wins over the snapshot);
 * a step that is no longer reachable (a dataset that is gone) falls back to the last one that is.
 */
export async function restoreWizard(
  wizard: WizardState,
  api: Pick<PollardApi, 'getRun'>,
  snapshot: WizardSnapshot,
  hash: string,
): Promise<void> {
  wizard.limit = snapshot.limit;
  wizard.arch = snapshot.arch;
  wizard.epochs = snapshot.epochs;
  wizard.pruneWhileTraining = snapshot.pruneWhileTraining;
  wizard.pruneTarget = snapshot.pruneTarget;
  wizard.compareDense = snapshot.compareDense;
  if (snapshot.dataset) await wizard.openDataset(snapshot.dataset.path, snapshot.dataset.label);
  if (snapshot.model && wizard.dataset)
    await wizard.openModel(snapshot.model.path, snapshot.model.label, snapshot.model.baselineAccuracy);
  // Opening the model presets the file's guess; the saved choice (with which the saved baseline was measured) wins.
  if (snapshot.model && snapshot.inputScaling !== null) wizard.inputScaling = snapshot.inputScaling;
  // Finished ones show again (one still running has no result yet: the App watches it).
  for (const dir of [snapshot.exploreRunDir, snapshot.sensitivityRunDir, snapshot.resultsRunDir]) {
    if (!dir) continue;
    try {
      await openRun(wizard, await api.getRun(dir));
    } catch {
      // The run folder is gone: its results cannot come back.
    }
  }
  wizard.choice = snapshot.choice;
  const place = placeFromHash(hash) ?? { view: snapshot.view, step: snapshot.step };
  const wanted = place.step ?? snapshot.step;
  const reachable = STEPS.slice(0, STEPS.indexOf(wanted) + 1).filter((step) => wizard.reachable[step]);
  wizard.step = reachable.at(-1) ?? 'dataset';
  wizard.view = place.view;
}

type MethodSpec = SpecOf<'explore'> | SpecOf<'sensitivity'>;

/**
 * Open a past run (Recent runs, or the one a reloaded page showed): a compression at its results;
 * an explore or sensitivity run on the Method step, with its dataset and model. False where the
 * run holds none of these results, or its model cannot be opened.
 */
export async function openRun(wizard: WizardState, details: RunDetails): Promise<boolean> {
  if (wizard.showRun(details)) return true;
  const spec = jobSpecSchema.safeParse(details.run.spec).data;
  if (spec?.kind !== 'explore' && spec?.kind !== 'sensitivity') return false;
  const result = readJobResult(spec.kind, details.run.result);
  if (!result) return false;
  await openRunInputs(wizard, spec);
  if (wizard.modelPath !== spec.model || !wizard.reachable.method) return false;
  wizard.showMethodResult(result);
  return true;
}

/**
 * Watch an explore or sensitivity job (found running after a reload, or opened from Recent runs)
 * on the Method step, with its dataset and model; resolves once those are open.
 */
export async function watchMethodJob(wizard: WizardState, job: JobState): Promise<void> {
  const spec = job.spec;
  if (spec?.kind !== 'explore' && spec?.kind !== 'sensitivity') return;
  await openRunInputs(wizard, spec);
  void (spec.kind === 'explore' ? wizard.followExplore(job) : wizard.followSensitivity(job));
  wizard.goto('method');
}

/**
 * The run's dataset and model, opened where others are open; a model opened anew comes with the
 * run's criterion (and target measure). The Method step then shows a pruning method.
 */
async function openRunInputs(wizard: WizardState, spec: MethodSpec): Promise<void> {
  if (wizard.datasetPath !== spec.data) {
    wizard.limit = spec.limit ?? null;
    await wizard.openDataset(spec.data, baseName(spec.data));
  }
  let choice = METHODS[wizard.choice.method].prunes
    ? wizard.choice
    : withMethodDefaults(wizard.choice, 'structured');
  if (wizard.modelPath !== spec.model && wizard.dataset) {
    await wizard.openModel(spec.model, baseName(spec.model));
    if (spec.inputScaling) wizard.setInputScaling(spec.inputScaling);
    const targetBy = spec.kind === 'explore' ? spec.by : choice.targetBy;
    choice = { ...choice, criterion: spec.criterion, targetBy };
  }
  wizard.choice = choice;
}
