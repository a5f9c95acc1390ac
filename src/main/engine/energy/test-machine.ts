/** Test helpers for the compress-run energy tests: a tiny dataset split and a fake machine on a fake clock. */
import { trainingOptionsSchema } from '../../../shared/jobs';
import type { BackendReport } from '../../../shared/types';
import type { DatasetSplit } from '../data/types';
import { FakeEnergySource } from './fake-source';

export const BACKEND: BackendReport = { used: 'cpu', device: 'pure JavaScript', rungs: [] };
export const training = trainingOptionsSchema.parse({ learningRate: 0.01 });

/** `count` 8×8 single-channel images in 3 classes, a fixed pattern. */
export function split(count: number): DatasetSplit {
  const images = new Uint8Array(count * 64);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    labels[i] = i % 3;
    for (let p = 0; p < 64; p++) images[i * 64 + p] = (i * 31 + p * 7) % 256;
  }
  return { images, labels, count };
}

/** A fake clock that only moves when told, an unavailable RAPL and a CPU model drawing `watts`. */
export function fakeMachine(watts: number | ((at: number) => number)) {
  const state = { now: 5_000_000 };
  const clock = (): number => state.now;
  const sources = [
    new FakeEnergySource({
      id: 'rapl',
      covers: ['cpu', 'dram'],
      clock,
      watts: 0,
      unavailable: 'no powercap',
    }),
    new FakeEnergySource({ id: 'cpu-tdp', kind: 'modelled', clock, watts }),
  ];
  return { state, clock, sources };
}
