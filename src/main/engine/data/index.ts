/** The dataset layer's public surface. */
export { openDataset, datasetEntry, DATASET_IMPORTERS } from './registry';
export { describeDataset } from './describe';
export { previewImages, type PreviewImage } from './preview';
export {
  batchCount,
  gatherSplit,
  makeBatch,
  shuffledOrder,
  splitValidation,
  DEFAULT_NORMALIZATION,
  type Batch,
  type Normalization,
} from './pipeline';
export type { Dataset, DatasetEntry, DatasetImporter, DatasetSplit, OpenOptions } from './types';
