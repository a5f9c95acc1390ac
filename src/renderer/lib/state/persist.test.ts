import { describe, expect, it } from 'vitest';
import type { RunDetails } from '../../../shared/api';
import { DEFAULT_METHOD_CHOICE } from '../job-specs';
import {
  hashOf,
  parseSnapshot,
  placeFromHash,
  restoreWizard,
  watchedRunDirs,
  type WizardSnapshot,
} from './persist';
import type { Step, WizardState } from './wizard.svelte';

const SNAPSHOT: WizardSnapshot = {
  version: 1,
  step: 'method',
  view: 'wizard',
  dataset: { path: '/data/fashion', label: 'fashion' },
  limit: 3000,
  model: { path: '/runs/train-1', label: 'lenet baseline', baselineAccuracy: 0.85 },
  inputScaling: 'symmetric',
  arch: 'vgg-small',
  epochs: 3,
  pruneWhileTraining: true,
  pruneTarget: 0.4,
  compareDense: false,
  choice: { ...DEFAULT_METHOD_CHOICE, method: 'magnitude', sparsity: 0.7 },
  compressRunDir: '/runs/compress-1',
  trainRunDir: null,
  exploreRunDir: null,
  sensitivityRunDir: null,
  resultsRunDir: null,
};

/** The parts of WizardState restoreWizard uses, recording what it was asked to open. */
function stubWizard(opens: string[], reach: Partial<Record<Step, boolean>> = {}) {
  const stub = {
    step: 'dataset' as Step,
    view: 'wizard',
    limit: null as number | null,
    arch: 'lenet',
    epochs: 1,
    pruneWhileTraining: false,
    pruneTarget: 0.5,
    compareDense: false,
    inputScaling: null as string | null,
    choice: DEFAULT_METHOD_CHOICE,
    dataset: null as object | null,
    reachable: {
      dataset: true,
      model: true,
      method: true,
      run: true,
      results: false,
      export: false,
      ...reach,
    },
    async openDataset(path: string, label: string) {
      opens.push(`dataset ${path} (${label})`);
      stub.dataset = {};
    },
    async openModel(path: string, label: string, accuracy: number | null) {
      opens.push(`model ${path} (${label}) ${accuracy}`);
      // Opening presets the file's guess, as WizardState does.
      stub.inputScaling = 'unit';
    },
    showRun(details: RunDetails) {
      opens.push(`results ${details.summary.dir}`);
      stub.step = 'results';
      return true;
    },
  };
  return stub;
}

describe('the wizard’s place across a reload', () => {
  it('reads back what it saved, and drops what is not a snapshot', () => {
    expect(parseSnapshot(JSON.stringify(SNAPSHOT))).toEqual(SNAPSHOT);
    expect(parseSnapshot(null)).toBeNull();
    expect(parseSnapshot('{"version": 1')).toBeNull();
    expect(parseSnapshot('{"version": 2}')).toBeNull();
    const odd = parseSnapshot(
      JSON.stringify({ ...SNAPSHOT, step: 'nowhere', arch: 'gpt', model: { path: 1 } }),
    );
    expect(odd).toMatchObject({ step: 'dataset', arch: 'lenet', model: null });
    // An option a later version added keeps its default.
    const { roundTo: _dropped, ...older } = SNAPSHOT.choice;
    expect(parseSnapshot(JSON.stringify({ ...SNAPSHOT, choice: older }))!.choice.roundTo).toBe(
      DEFAULT_METHOD_CHOICE.roundTo,
    );
  });

  it('watches again the jobs of every run folder it names', () => {
    expect(watchedRunDirs(null)).toEqual([]);
    expect(watchedRunDirs(SNAPSHOT)).toEqual(['/runs/compress-1']);
    const all = {
      ...SNAPSHOT,
      trainRunDir: '/runs/t',
      exploreRunDir: '/runs/e',
      sensitivityRunDir: '/runs/s',
    };
    expect(watchedRunDirs(all)).toEqual(['/runs/compress-1', '/runs/t', '/runs/e', '/runs/s']);
    expect(parseSnapshot(JSON.stringify(all))).toEqual(all);
    // A snapshot from before these fields: none.
    const { exploreRunDir: _e, sensitivityRunDir: _s, ...older } = all;
    expect(parseSnapshot(JSON.stringify(older))).toMatchObject({
      exploreRunDir: null,
      sensitivityRunDir: null,
    });
  });

  it('shows the finished explore and sensitivity runs again, then the results; the saved choice wins', async () => {
    const opens: string[] = [];
    const wizard = stubWizard(opens, { results: true });
    const asked: string[] = [];
    await restoreWizard(
      wizard as unknown as WizardState,
      {
        getRun: async (dir: string) => {
          asked.push(dir);
          if (dir === '/runs/gone') throw new Error('no such run');
          return { summary: { dir } } as RunDetails;
        },
      },
      { ...SNAPSHOT, exploreRunDir: '/runs/e', sensitivityRunDir: '/runs/gone', resultsRunDir: '/runs/c' },
      '#/method',
    );
    expect(asked).toEqual(['/runs/e', '/runs/gone', '/runs/c']);
    expect(opens.slice(2)).toEqual(['results /runs/e', 'results /runs/c']);
    expect(wizard.step).toBe('method');
    expect(wizard.choice).toEqual(SNAPSHOT.choice);
  });

  it('names the step or view in the hash', () => {
    expect(hashOf({ view: 'wizard', step: 'method' })).toBe('#/method');
    expect(hashOf({ view: 'runs', step: 'method' })).toBe('#/runs');
    expect(placeFromHash('#/export')).toEqual({ view: 'wizard', step: 'export' });
    expect(placeFromHash('#/settings')).toEqual({ view: 'settings' });
    expect(placeFromHash('#/wizard')).toBeNull();
    expect(placeFromHash('')).toBeNull();
  });

  it('opens the choices again and returns to the saved step', async () => {
    const opens: string[] = [];
    const wizard = stubWizard(opens);
    await restoreWizard(
      wizard as unknown as WizardState,
      { getRun: async () => ({}) as RunDetails },
      SNAPSHOT,
      '',
    );
    expect(opens).toEqual(['dataset /data/fashion (fashion)', 'model /runs/train-1 (lenet baseline) 0.85']);
    expect(wizard).toMatchObject({
      step: 'method',
      view: 'wizard',
      limit: 3000,
      arch: 'vgg-small',
      epochs: 3,
      // The saved choice wins over the file's guess.
      inputScaling: 'symmetric',
    });
    expect(wizard.choice).toEqual(SNAPSHOT.choice);
  });

  it('lets the hash choose, and stops at the last step still reachable', async () => {
    const wizard = stubWizard([], { method: false, run: false });
    await restoreWizard(
      wizard as unknown as WizardState,
      { getRun: async () => ({}) as RunDetails },
      SNAPSHOT,
      '#/run',
    );
    expect(wizard.step).toBe('model');
    const shown: string[] = [];
    const withResults = stubWizard(shown, { results: true, export: true });
    const details = { summary: { dir: '/runs/compress-1' } } as RunDetails;
    await restoreWizard(
      withResults as unknown as WizardState,
      { getRun: async () => details },
      { ...SNAPSHOT, resultsRunDir: '/runs/compress-1', step: 'results' },
      '#/export',
    );
    expect(shown.at(-1)).toBe('results /runs/compress-1');
    expect(withResults.step).toBe('export');
  });
});
