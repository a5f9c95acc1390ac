import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiArguments } from '../services/api-methods';
import { reportProblem } from './report-path';

let root: string;

beforeAll(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-report-path-'));
  await fs.writeFile(path.join(root, 'report.html'), '<p>r</p>');
  await fs.writeFile(path.join(root, 'report.PDF'), '%PDF');
  await fs.writeFile(path.join(root, 'run.sh'), 'echo');
  await fs.mkdir(path.join(root, 'folder.html'));
  await fs.symlink(path.join(root, 'run.sh'), path.join(root, 'link.html'));
});

afterAll(() => fs.rm(root, { recursive: true, force: true }));

describe('openReport: which files the OS may open', () => {
  it('accepts an existing .html or .pdf file', async () => {
    expect(await reportProblem(path.join(root, 'report.html'))).toBeNull();
    expect(await reportProblem(path.join(root, 'report.PDF'))).toBeNull();
  });

  it('refuses other kinds, missing files, folders and symlinks', async () => {
    expect(await reportProblem(path.join(root, 'run.sh'))).toBe(
      'not a report (only .html and .pdf files are opened)',
    );
    expect(await reportProblem(path.join(root, 'missing.html'))).toBe('not found');
    expect(await reportProblem(path.join(root, 'folder.html'))).toBe('not a regular file');
    expect(await reportProblem(path.join(root, 'link.html'))).toBe('not a regular file');
  });

  it('takes only an absolute path over IPC', () => {
    expect(() => parseApiArguments('openReport', ['report.html'])).toThrow(
      'openReport: must be an absolute path',
    );
    expect(parseApiArguments('openReport', ['/r/report.html'])).toEqual(['/r/report.html']);
  });
});
