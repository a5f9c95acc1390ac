import { describe, expect, it } from 'vitest';
import { relativeToRun, reportFile, reportHref, takeawayFiles, zipHref } from './takeaway';

const RUN = '/data/runs/compress-1';

describe('takeaway links', () => {
  it('finds a file relative to the run folder, or says it is outside', () => {
    expect(relativeToRun(RUN, '/data/runs/compress-1/export/model/model.json')).toBe(
      'export/model/model.json',
    );
    expect(relativeToRun(`${RUN}/`, `${RUN}/export/report.html`)).toBe('export/report.html');
    expect(relativeToRun('C:\\runs\\c1', 'C:\\runs\\c1\\export\\report.html')).toBe('export/report.html');
    expect(relativeToRun(RUN, '/data/runs/compress-10/export/report.html')).toBeNull();
    expect(relativeToRun(RUN, '/home/me/export/report.html')).toBeNull();
    expect(relativeToRun(RUN, RUN)).toBeNull();
    expect(relativeToRun(RUN, `${RUN}/export/../../x`)).toBeNull();
  });

  it('links each file inside the run, and the report to open in a tab', () => {
    const files = takeawayFiles(RUN, {
      files: [
        { path: `${RUN}/export/model/model.json`, bytes: 2048 },
        { path: `${RUN}/export/report.pdf`, bytes: 10 },
        { path: `${RUN}/export/report.html`, bytes: 5000 },
        { path: '/elsewhere/report.json', bytes: 3 },
      ],
      skipped: [],
    });
    expect(files.map((f) => f.href)).toEqual([
      '/api/download?run=%2Fdata%2Fruns%2Fcompress-1&file=export%2Fmodel%2Fmodel.json',
      '/api/download?run=%2Fdata%2Fruns%2Fcompress-1&file=export%2Freport.pdf',
      '/api/download?run=%2Fdata%2Fruns%2Fcompress-1&file=export%2Freport.html',
      null,
    ]);
    const report = reportFile(files);
    expect(report?.path).toBe(`${RUN}/export/report.html`);
    expect(reportHref(RUN, report)).toBe(
      '/api/download?run=%2Fdata%2Fruns%2Fcompress-1&file=export%2Freport.html&inline=1',
    );
    expect(reportFile(files.slice(0, 2))?.path).toBe(`${RUN}/export/report.pdf`);
    expect(reportFile(files.slice(0, 1))).toBeNull();
    expect(zipHref(RUN)).toBe('/api/download.zip?run=%2Fdata%2Fruns%2Fcompress-1');
  });
});
