import { describe, expect, it } from 'vitest';
import type { DatasetPreview, JobMessage, JobStatus, PollardApi, RunDetails } from '../../../shared/api';
import { PollardError } from '../../../shared/errors';
import type { JobEventBody, JobSpec, JobSpecInput } from '../../../shared/jobs';
import { exploreResultSchema, type PlanResult } from '../../../shared/job-results';
import {
  compressResultFixture,
  evaluateResultFixture,
  planResultFixture,
  sensitivityResultFixture,
  trainResultFixture,
} from '../../../shared/testing/result-fixtures';
import type { ModelSummary } from '../../../shared/types';
import { JobHub } from './job-hub';
import { openRun, snapshotOf, watchMethodJob } from './persist';
import { exportFolderOf, WizardState } from './wizard.svelte';

const DATASET: DatasetPreview = {
  info: {
    format: 'idx',
    source: '/data/fashion',
    shape: [28, 28, 1],
    classNames: ['a', 'b'],
    train: { count: 100, perClass: [50, 50] },
    notes: [],
  },
  previews: [],
};

const MODEL: ModelSummary = {
  format: 'tfjs-layers',
  source: '/runs/train-1',
  name: 'lenet',
  inputShape: [null, 28, 28, 1],
  outputShape: [null, 2],
  classes: 2,
  layers: [],
  params: 1000,
  trainableParams: 1000,
  macs: 10_000,
  sizeBytes: 4000,
  sizeGzipBytes: 3000,
  weightDtypes: ['float32'],
};

const fixture = compressResultFixture();
const COMPRESSION = compressResultFixture({
  method: 'structured',
  runDir: '/runs/compress-1',
  before: { ...fixture.before, accuracy: 0.9, params: 1000, macs: 10_000 },
  after: { ...fixture.after, accuracy: 0.89, params: 500, macs: 5000 },
  layers: [],
});

/** An in-memory PollardApi: jobs finish when the test emits their events. */
class FakeApi implements Partial<PollardApi> {
  listeners = new Set<(m: JobMessage) => void>();
  started: JobSpecInput[] = [];
  resumed: string[] = [];
  cancelled: string[] = [];
  seq = new Map<string, number>();
  planCalls = 0;

  emit(jobId: string, body: JobEventBody): void {
    const seq = this.seq.get(jobId) ?? 0;
    this.seq.set(jobId, seq + 1);
    for (const listener of this.listeners)
      listener({ jobId, event: { ...body, seq, time: 0 } as JobMessage['event'] });
  }

  subscribe = (listener: (m: JobMessage) => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
  listJobs = async (): Promise<JobStatus[]> => [];
  describeDataset = async (path: string): Promise<DatasetPreview> => {
    if (path.endsWith('.bad')) throw new PollardError('bad-input', `${path}: bad magic number 2050`, path);
    return DATASET;
  };
  inspectModel = async (): Promise<ModelSummary> => MODEL;
  planCompression = async (spec: { by?: 'macs' | 'params' }): Promise<PlanResult> => {
    this.planCalls += 1;
    return planResultFixture({
      by: spec.by ?? 'macs',
      points: [0, 0.25, 0.5].map((target) => ({
        target,
        ratio: target,
        paramsBefore: 1000,
        paramsAfter: 1000 * (1 - target),
        macsBefore: 10_000,
        macsAfter: 10_000 * (1 - target),
        groups: [],
        layers: [],
      })),
    });
  };
  startJob = async (spec: JobSpecInput): Promise<JobStatus> => {
    this.started.push(spec);
    const jobId = `job-${this.started.length}`;
    return { jobId, kind: spec.kind, state: 'queued', spec: spec as JobSpec };
  };
  resumeRun = async (runDir: string): Promise<JobStatus> => {
    this.resumed.push(runDir);
    const jobId = `resumed-${this.resumed.length}`;
    return {
      jobId,
      kind: 'compress',
      state: 'queued',
      runDir,
      spec: { kind: 'compress', out: runDir } as JobSpec,
    };
  };
  cancelJob = async (jobId: string): Promise<void> => {
    this.cancelled.push(jobId);
  };
}

const EXPLORE = exploreResultSchema.parse({
  kind: 'explore',
  runDir: '/runs/explore-1',
  by: 'params',
  criterion: 'fpgm',
  finetuneEpochs: 0,
  evaluation: { split: 'test', samples: 200 },
  points: [0, 0.2].map((target) => ({
    target,
    params: 1000 * (1 - target),
    macs: 10_000 * (1 - target),
    macsRemoved: target,
    paramsRemoved: target,
    accuracyPruned: 0.9 - target / 10,
    latencyMs: 1,
    pareto: true,
  })),
  notes: [],
  files: { json: '/runs/explore-1/explore.json', csv: '/runs/explore-1/explore.csv' },
});

/** A past run as getRun returns it: its spec (as the engine wrote it) and, once finished, its result. */
function runDetails(dir: string, spec: Record<string, unknown>, result?: unknown): RunDetails {
  return {
    summary: { dir },
    run: { spec: { out: dir, ...spec }, ...(result ? { result } : {}) },
    history: [],
    files: [],
  } as unknown as RunDetails;
}

function setup(): { api: FakeApi; wizard: WizardState } {
  const api = new FakeApi();
  const hub = new JobHub(api as unknown as PollardApi);
  void hub.connect();
  return { api, wizard: new WizardState(api as unknown as PollardApi, hub, 'browser') };
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('WizardState', () => {
  it('shows a dataset error inline with what the user gave, and keeps the step', async () => {
    const { wizard } = setup();
    await wizard.openDataset('/data/x.bad', 'x.bad');
    expect(wizard.datasetError).toEqual({ source: 'x.bad', message: '/data/x.bad: bad magic number 2050' });
    expect(wizard.dataset).toBeNull();
    expect(wizard.canAdvance()).toBe(false);
    await wizard.openDataset('/data/fashion', 'fashion');
    expect(wizard.datasetError).toBeNull();
    expect(wizard.canAdvance()).toBe(true);
  });

  it('trains a baseline, then opens its model with the accuracy the run reported', async () => {
    const { api, wizard } = setup();
    await wizard.openDataset('/data/fashion', 'fashion');
    wizard.limit = 500;
    const training = wizard.trainBaseline();
    await tick();
    expect(api.started).toEqual([
      { kind: 'train', data: '/data/fashion', arch: 'lenet', training: { epochs: 1 }, limit: 500 },
    ]);
    const result = trainResultFixture({
      accuracy: 0.81,
      runDir: '/runs/train-1',
      modelPath: '/runs/train-1/model',
    });
    api.emit('job-1', { type: 'result', result });
    await training;
    expect(wizard.modelPath).toBe('/runs/train-1/model');
    expect(wizard.baselineAccuracy).toBe(0.81);
    // The accuracy came with the model: no evaluate job.
    expect(api.started).toHaveLength(1);
  });

  it('measures the baseline of a dropped model with an evaluate job', async () => {
    const { api, wizard } = setup();
    await wizard.openDataset('/data/fashion', 'fashion');
    await wizard.openModel('/models/m', 'm');
    await tick();
    expect(api.started.at(-1)).toEqual({ kind: 'evaluate', model: '/models/m', data: '/data/fashion' });
    api.emit('job-1', { type: 'result', result: evaluateResultFixture(0.77) });
    await tick();
    expect(wizard.baselineAccuracy).toBe(0.77);
  });

  it('stops at the Model step when the model cannot be evaluated on the dataset', async () => {
    const { api, wizard } = setup();
    await wizard.openDataset('/data/fashion', 'fashion');
    await wizard.openModel('/models/m', 'm');
    await tick();
    expect(wizard.reachable.method).toBe(true);
    api.emit('job-1', {
      type: 'error',
      error: { code: 'bad-input', message: 'expected input shape [32,32,1], got [28,28,1]' },
    });
    await tick();
    expect(wizard.evaluationError).toEqual({
      source: 'baseline accuracy',
      message: 'expected input shape [32,32,1], got [28,28,1]',
    });
    expect(wizard.modelError).toEqual(wizard.evaluationError);
    expect(wizard.reachable.method).toBe(false);
    wizard.step = 'model';
    expect(wizard.canAdvance()).toBe(false);
    // Another model clears it and is measured again.
    await wizard.openModel('/models/other', 'other');
    expect(wizard.evaluationError).toBeNull();
    expect(wizard.reachable.method).toBe(true);
  });

  it('presets the input scaling from the file and measures the baseline again when it changes', async () => {
    const { api, wizard } = setup();
    api.inspectModel = async () => ({
      ...MODEL,
      inputScalingGuess: {
        scaling: 'symmetric',
        reason: "layers Conv1 and bn_Conv1 are Keras MobileNetV2's",
      },
    });
    await wizard.openDataset('/data/fashion', 'fashion');
    await wizard.openModel('/models/tm', 'tm');
    await tick();
    expect(wizard.inputScaling).toBe('symmetric');
    expect(api.started.at(-1)).toEqual({
      kind: 'evaluate',
      model: '/models/tm',
      data: '/data/fashion',
      inputScaling: 'symmetric',
    });
    wizard.setInputScaling('unit');
    await tick();
    expect(api.started.at(-1)).toEqual({
      kind: 'evaluate',
      model: '/models/tm',
      data: '/data/fashion',
      inputScaling: 'unit',
    });
    expect(wizard.baselineAccuracy).toBeNull();
  });

  it('plans once per model, criterion and measure', async () => {
    const { api, wizard } = setup();
    await wizard.openModel('/models/m', 'm');
    await wizard.loadPlan();
    await wizard.loadPlan();
    expect(api.planCalls).toBe(1);
    expect(wizard.plan?.points.map((p) => p.target)).toEqual([0, 0.25, 0.5]);
    wizard.choice.targetBy = 'params';
    await wizard.loadPlan();
    expect(api.planCalls).toBe(2);
    expect(wizard.plan?.by).toBe('params');
  });

  it('starts an explore run of the model with the chosen shape; another model forgets it', async () => {
    const { api, wizard } = setup();
    await wizard.openDataset('/data/fashion', 'fashion');
    await wizard.openModel('/models/m', 'm', 0.9);
    wizard.limit = 200;
    wizard.choice.criterion = 'fpgm';
    await wizard.startExplore([0.4, 0.2], 0);
    expect(api.started.at(-1)).toEqual({
      kind: 'explore',
      model: '/models/m',
      data: '/data/fashion',
      by: 'macs',
      targets: [0.2, 0.4],
      criterion: 'fpgm',
      finetuneEpochs: 0,
      limit: 200,
    });
    expect(wizard.exploreJob?.jobId).toBe(`job-${api.started.length}`);
    expect(wizard.exploreJob?.kind).toBe('explore');
    await wizard.openModel('/models/other', 'other', 0.8);
    expect(wizard.exploreJob).toBeNull();
  });

  it('runs a compression, is cancelled, resumes, and shows the results', async () => {
    const { api, wizard } = setup();
    await wizard.openDataset('/data/fashion', 'fashion');
    await wizard.openModel('/runs/train-1', 'lenet', 0.9);
    const run = wizard.startCompression();
    await tick();
    expect(wizard.step).toBe('run');
    expect(api.started.at(-1)).toMatchObject({ kind: 'compress', method: 'structured', targetMacs: 0.5 });
    api.emit('job-1', {
      type: 'started',
      kind: 'compress',
      backend: { used: 'wasm', device: 'SIMD', rungs: [] },
      runDir: '/runs/compress-1',
      pid: 1,
      versions: {},
    });
    await wizard.cancelCompression();
    expect(api.cancelled).toEqual(['job-1']);
    api.emit('job-1', { type: 'cancelled', epoch: 1, batch: 3 });
    await run;
    expect(wizard.compressJob?.phase).toBe('cancelled');
    expect(wizard.results).toBeNull();

    const resumed = wizard.resumeCompression();
    await tick();
    expect(api.resumed).toEqual(['/runs/compress-1']);
    api.emit('resumed-1', { type: 'result', result: COMPRESSION });
    await resumed;
    expect(wizard.results?.after.params).toBe(500);
    expect(wizard.resultsRunDir).toBe('/runs/compress-1');
    expect(wizard.reachable.export).toBe(true);
    expect(wizard.defaultExportTarget()).toBe('/runs/compress-1/export');
  });

  it('opens a past compression run at its results', () => {
    const { wizard } = setup();
    const details = {
      summary: { dir: '/runs/compress-9' },
      run: { result: COMPRESSION },
      history: [],
      files: [],
    } as unknown as RunDetails;
    expect(wizard.showRun(details)).toBe(true);
    expect(wizard.step).toBe('results');
    expect(wizard.resultsRunDir).toBe('/runs/compress-9');
    expect(wizard.showRun({ ...details, run: { result: { accuracy: 1 } } })).toBe(false);
  });

  it('puts exports beside the run, with the host path separator', () => {
    expect(exportFolderOf('/runs/a/')).toBe('/runs/a/export');
    expect(exportFolderOf('C:\\runs\\a')).toBe('C:\\runs\\a\\export');
  });
});

describe('explore and sensitivity runs on the Method step', () => {
  const exploreSpec = {
    kind: 'explore',
    model: '/models/m',
    data: '/data/fashion',
    by: 'params',
    criterion: 'fpgm',
    limit: 200,
  };

  it('opens a finished explore run from Recent runs with its dataset, model and criterion', async () => {
    const { wizard } = setup();
    wizard.setMethod('quantize');
    expect(await openRun(wizard, runDetails('/runs/explore-1', exploreSpec, EXPLORE))).toBe(true);
    expect(wizard.datasetPath).toBe('/data/fashion');
    expect(wizard.limit).toBe(200);
    expect(wizard.modelPath).toBe('/models/m');
    expect(wizard.exploreResult?.points.map((p) => p.macs)).toEqual([10_000, 8000]);
    expect(wizard.exploreJob).toBeNull();
    expect([wizard.view, wizard.step]).toEqual(['wizard', 'method']);
    // A pruning method, with the run's criterion and measure, so the panel shows and a picked point means the same.
    expect(wizard.choice).toMatchObject({ method: 'structured', criterion: 'fpgm', targetBy: 'params' });
    // A reload shows it again.
    expect(snapshotOf(wizard).exploreRunDir).toBe('/runs/explore-1');
    // Another model forgets it.
    await wizard.openModel('/models/other', 'other', 0.8);
    expect(wizard.exploreResult).toBeNull();
    expect(snapshotOf(wizard).exploreRunDir).toBeNull();
  });

  it('opens a finished sensitivity run, which automatic mode then reuses; the open model keeps its choice', async () => {
    const { wizard } = setup();
    await wizard.openDataset('/data/fashion', 'fashion');
    await wizard.openModel('/models/m', 'm', 0.9);
    wizard.choice.criterion = 'l1';
    const spec = { kind: 'sensitivity', model: '/models/m', data: '/data/fashion', criterion: 'l1' };
    const result = sensitivityResultFixture({ runDir: '/runs/sensitivity-1' });
    expect(await openRun(wizard, runDetails('/runs/sensitivity-1', spec, result))).toBe(true);
    expect(wizard.step).toBe('method');
    expect(wizard.sensitivity?.curves.map((c) => c.name)).toEqual(['conv1', 'conv2 + conv3']);
    expect(wizard.sensitivityRun).toBe('/runs/sensitivity-1');
    expect(snapshotOf(wizard).sensitivityRunDir).toBe('/runs/sensitivity-1');
    wizard.choice.criterion = 'fpgm';
    expect(wizard.sensitivityRun).toBeNull();
  });

  it('does not open a run that is still running, or one of another kind', async () => {
    const { wizard } = setup();
    expect(await openRun(wizard, runDetails('/runs/explore-2', exploreSpec))).toBe(false);
    expect(await openRun(wizard, runDetails('/runs/train-2', { kind: 'train', data: '/d' }, EXPLORE))).toBe(
      false,
    );
    expect(wizard.exploreResult).toBeNull();
    expect(wizard.step).toBe('dataset');
  });

  it('watches a running explore job again, and shows its result when it ends', async () => {
    const { api, wizard } = setup();
    const job = wizard.hub.track({
      jobId: 'job-7',
      kind: 'explore',
      state: 'running',
      runDir: '/runs/explore-1',
      spec: { ...exploreSpec, out: '/runs/explore-1', targets: [0.2] } as unknown as JobSpec,
    });
    await watchMethodJob(wizard, job);
    expect(wizard.exploreJob).toBe(job);
    expect(wizard.modelPath).toBe('/models/m');
    expect(wizard.step).toBe('method');
    expect(snapshotOf(wizard).exploreRunDir).toBe('/runs/explore-1');
    api.emit('job-7', { type: 'result', result: EXPLORE });
    await tick();
    expect(wizard.exploreResult?.runDir).toBe('/runs/explore-1');
  });

  it('watches a running sensitivity job again: Cancel reaches it, and a new model forgets it', async () => {
    const { api, wizard } = setup();
    const spec = {
      kind: 'sensitivity',
      model: '/models/m',
      data: '/data/fashion',
      criterion: 'l1',
      out: '/runs/s-2',
    };
    const job = wizard.hub.track({
      jobId: 'job-8',
      kind: 'sensitivity',
      state: 'running',
      runDir: '/runs/s-2',
      spec: spec as unknown as JobSpec,
    });
    await watchMethodJob(wizard, job);
    expect(wizard.sensitivityJob).toBe(job);
    await wizard.hub.cancel(job);
    expect(api.cancelled).toEqual(['job-8']);
    api.emit('job-8', { type: 'result', result: sensitivityResultFixture({ runDir: '/runs/s-2' }) });
    await tick();
    expect(wizard.sensitivityRun).toBe('/runs/s-2');
    await wizard.openModel('/models/other', 'other', 0.8);
    expect([wizard.sensitivityJob, wizard.sensitivity, wizard.sensitivityRun]).toEqual([null, null, null]);
  });
});
