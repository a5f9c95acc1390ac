/**
 * A finished sensitivity run read back for automatic mode, so the measurements the user already
 * looked at choose the ratios (instead of a second, possibly different, measurement). Validated
 * before use: every group must be one of this model's channel groups, measured at each ratio.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { badInput } from '../../../shared/errors';
import { CRITERIA, type Criterion } from '../../../shared/jobs';
import type { DependencyGraph } from './graph';
import type { GroupSensitivity, SensitivityResult } from './sensitivity';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);
const isNumberList = (value: unknown, length?: number): value is number[] =>
  Array.isArray(value) &&
  (length === undefined || value.length === length) &&
  value.every((v) => typeof v === 'number' && Number.isFinite(v));

/** `<run>/sensitivity.json` (or the file itself), checked against the model's dependency graph. */
export async function readSensitivityRun(
  run: string,
  graph: DependencyGraph,
  criterion: Criterion,
): Promise<SensitivityResult> {
  const file = run.endsWith('.json') ? run : path.join(run, 'sensitivity.json');
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    const reason = error instanceof SyntaxError ? 'is not valid JSON' : 'cannot be read';
    throw badInput(file, `${reason}: automatic mode needs the sensitivity run's sensitivity.json`);
  }
  return parseSensitivity(file, raw, graph, criterion);
}

export function parseSensitivity(
  file: string,
  raw: unknown,
  graph: DependencyGraph,
  criterion: Criterion,
): SensitivityResult {
  if (!isRecord(raw)) throw badInput(file, 'is not a sensitivity result (an object)');
  const ratios = raw.ratios;
  if (!isNumberList(ratios) || ratios.length === 0 || ratios.some((r) => r <= 0 || r >= 1))
    throw badInput(file, 'ratios must be a list of fractions between 0 and 1');
  if (typeof raw.baselineAccuracy !== 'number' || !Number.isFinite(raw.baselineAccuracy))
    throw badInput(file, 'baselineAccuracy must be a number');
  const measured = (CRITERIA as readonly string[]).includes(String(raw.criterion))
    ? (raw.criterion as Criterion)
    : null;
  if (measured !== criterion)
    throw badInput(
      file,
      `was measured with the ${String(raw.criterion)} criterion, but this run ranks channels by ${criterion}: analyse sensitivity again with ${criterion}`,
    );
  if (!Array.isArray(raw.groups)) throw badInput(file, 'groups must be a list');
  const known = new Set(graph.groups.map((g) => g.id));
  const groups: GroupSensitivity[] = raw.groups.map((entry, i) => {
    if (!isRecord(entry) || typeof entry.id !== 'string') throw badInput(file, `groups[${i}] has no id`);
    if (!known.has(entry.id))
      throw badInput(
        file,
        `group ${entry.id} is not a channel group of this model: the sensitivity run was measured on another model`,
      );
    const lists = ['channelsAfter', 'accuracy', 'macsRemoved', 'paramsRemoved'] as const;
    for (const key of lists)
      if (!isNumberList(entry[key], ratios.length))
        throw badInput(file, `groups[${i}].${key} must hold one number per ratio (${ratios.length})`);
    return {
      id: entry.id,
      producers: Array.isArray(entry.producers) ? entry.producers.map(String) : [],
      channels: typeof entry.channels === 'number' ? entry.channels : 0,
      channelsAfter: entry.channelsAfter as number[],
      accuracy: entry.accuracy as number[],
      macsRemoved: entry.macsRemoved as number[],
      paramsRemoved: entry.paramsRemoved as number[],
    };
  });
  return {
    criterion,
    ratios,
    baselineAccuracy: raw.baselineAccuracy,
    macs: typeof raw.macs === 'number' ? raw.macs : 0,
    params: typeof raw.params === 'number' ? raw.params : 0,
    groups,
    notes: Array.isArray(raw.notes) ? raw.notes.map(String) : [],
  };
}
