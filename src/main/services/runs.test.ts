import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { jobSpecSchema } from '../../shared/jobs';
import { parseRunRecord, runDirOf } from '../../shared/run-record';
import { compressResultFixture } from '../../shared/testing/result-fixtures';
import { listRuns, readRun, RunRecorder } from './runs';

let root: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-runs-'));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

const compressSpec = (out: string) =>
  jobSpecSchema.parse({
    kind: 'compress',
    model: '/m/model.json',
    data: '/d',
    out,
    method: 'structured',
    target: 0.5,
    seed: 7,
  });

describe('runDirOf', () => {
  it('is the out folder of a run, none for a report or a job without out', () => {
    expect(runDirOf(compressSpec('/runs/a'))).toBe('/runs/a');
    expect(
      runDirOf(jobSpecSchema.parse({ kind: 'report', run: '/runs/a', out: '/exports/a' })),
    ).toBeUndefined();
    expect(runDirOf(jobSpecSchema.parse({ kind: 'info' }))).toBeUndefined();
  });
});

describe('run.json', () => {
  it('what the recorder writes reads back through the schema, spec and result intact', async () => {
    const dir = path.join(root, 'run-1');
    const spec = compressSpec(dir);
    const recorder = await RunRecorder.open(dir, spec, { id: 'r1', command: ['pollard', 'compress'] });
    const result = compressResultFixture({ runDir: dir });
    await recorder.finish({ status: 'completed', result });
    const text = await fs.readFile(path.join(dir, 'run.json'), 'utf8');
    const run = parseRunRecord(path.join(dir, 'run.json'), text);
    expect(run.status).toBe('completed');
    expect(run.kind).toBe('compress');
    expect(run.seed).toBe(7);
    expect(run.resumes).toBe(0);
    expect(run.spec).toEqual(spec);
    expect(run.result).toEqual(result);
    expect(run.command).toEqual(['pollard', 'compress']);
  });

  it('a damaged run.json names the file and the bad field; Recent runs skips it and lists the rest', async () => {
    const good = path.join(root, 'good');
    const recorder = await RunRecorder.open(good, compressSpec(good), { id: 'g' });
    await recorder.finish({ status: 'cancelled' });
    const bad = path.join(root, 'bad');
    await fs.mkdir(bad);
    const record = JSON.parse(await fs.readFile(path.join(good, 'run.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    await fs.writeFile(path.join(bad, 'run.json'), JSON.stringify({ ...record, status: 'exploded' }));
    const torn = path.join(root, 'torn');
    await fs.mkdir(torn);
    await fs.writeFile(path.join(torn, 'run.json'), '{"format":"pollard-run/1","id":');

    await expect(readRun(bad)).rejects.toThrow(
      `${path.join(bad, 'run.json')}: is not a valid Pollard run record: status: Invalid option: expected one of "running"|"completed"|"failed"|"cancelled"`,
    );
    await expect(readRun(torn)).rejects.toThrow(`${path.join(torn, 'run.json')}: is not valid JSON`);
    const listed = await listRuns(root);
    expect(listed.map((r) => [path.basename(r.dir), r.run.status])).toEqual([['good', 'cancelled']]);
  });

  it('a run.json whose spec lacks a required field is refused with the field named', () => {
    const text = JSON.stringify({
      format: 'pollard-run/1',
      id: 'x',
      kind: 'compress',
      spec: { kind: 'compress', data: '/d', out: '/o' },
      status: 'completed',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
      hostPid: 1,
      seed: 1,
      pollardVersion: '0.1.0',
      resumes: 0,
    });
    expect(() => parseRunRecord('/r/run.json', text)).toThrow(
      '/r/run.json: is not a valid Pollard run record: spec.model:',
    );
  });
});
