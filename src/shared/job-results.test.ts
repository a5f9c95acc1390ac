import { describe, expect, it } from 'vitest';
import { checkJobResult, readJobResult, resultOfKind, runDirOfResult } from './job-results';
import {
  compressResultFixture,
  datasetResultFixture,
  evaluateResultFixture,
  infoResultFixture,
  measuredEnergyFixture,
  planResultFixture,
  sensitivityResultFixture,
  trainResultFixture,
} from './testing/result-fixtures';

describe('job result schemas', () => {
  it('accept the test fixtures, so the fixtures the readers are tested on are results the schema allows', () => {
    const measured = compressResultFixture({
      energy: { ...compressResultFixture().energy, measured: measuredEnergyFixture() },
    });
    expect(checkJobResult('compress', measured).after.params).toBe(24_507);
    expect(checkJobResult('train', trainResultFixture()).accuracy).toBe(0.866);
    expect(checkJobResult('sensitivity', sensitivityResultFixture()).groups).toHaveLength(2);
    expect(checkJobResult('plan', planResultFixture()).points).toHaveLength(3);
    expect(checkJobResult('info', infoResultFixture()).system.cores).toBe(2);
    expect(checkJobResult('dataset', datasetResultFixture()).previews).toHaveLength(1);
    expect(checkJobResult('evaluate', evaluateResultFixture(0.5)).accuracy).toBe(0.5);
  });

  it('refuse a renamed key, naming the field', () => {
    const { baselineAccuracy, ...rest } = sensitivityResultFixture();
    expect(() => checkJobResult('sensitivity', { ...rest, baseline: baselineAccuracy })).toThrow(
      "the sensitivity job's result does not match its schema: baselineAccuracy: Invalid input: expected number, received undefined",
    );
  });

  it('read a stored result of another kind or shape as none', () => {
    expect(readJobResult('compress', trainResultFixture())).toBeUndefined();
    expect(readJobResult('compress', { before: { accuracy: 0.5 } })).toBeUndefined();
    expect(readJobResult('train', JSON.parse(JSON.stringify(trainResultFixture())))?.epochs).toBe(3);
  });

  it('narrow a result by its kind and find its run folder', () => {
    expect(resultOfKind('train', compressResultFixture())).toBeUndefined();
    expect(resultOfKind('compress', compressResultFixture())?.method).toBe('structured+quantize');
    expect(runDirOfResult(compressResultFixture())).toBe('/runs/compress-1');
    expect(runDirOfResult(infoResultFixture())).toBeUndefined();
  });
});
