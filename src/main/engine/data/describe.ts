/**
 * What the app and the CLI show about an opened dataset: shape, class names, counts per class.
 */
import type { DatasetInfo, SplitInfo } from '../../../shared/types';
import type { Dataset, DatasetSplit } from './types';

function splitInfo(split: DatasetSplit, classes: number): SplitInfo {
  const perClass = new Array<number>(classes).fill(0);
  for (let i = 0; i < split.count; i++) {
    const label = split.labels[i]!;
    if (label < classes) perClass[label]! += 1;
  }
  return { count: split.count, perClass };
}

export function describeDataset(dataset: Dataset): DatasetInfo {
  const classes = dataset.classNames.length;
  return {
    format: dataset.format,
    source: dataset.source,
    shape: [...dataset.shape],
    classNames: [...dataset.classNames],
    train: splitInfo(dataset.train, classes),
    ...(dataset.test ? { test: splitInfo(dataset.test, classes) } : {}),
    notes: [...dataset.notes],
  };
}
