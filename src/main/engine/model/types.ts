import type { ModelFormat } from '../../../shared/types';
import type { Normalization } from '../data/pipeline';
import type { LayersModel } from '../tf';

/** Where a loaded model came from, and how it was stored. */
export interface LoadedModel {
  model: LayersModel;
  format: ModelFormat;
  /** The path the user gave. */
  source: string;
  /** The files that make up the model on disk (for size and SHA-256). */
  files: string[];
  /** Dtypes found in the stored weights manifest (e.g. ["uint8"] for a quantized tfjs model). */
  weightDtypes: string[];
  /** Pollard metadata stored with the model (class names, input normalisation, provenance). */
  metadata: ModelMetadata;
  /**
   * The file's own free-form metadata other than Pollard's (TF.js userDefinedMetadata, ONNX
   * metadata_props), flattened to "key.sub" → text and capped (file-metadata.ts). Read by the
   * input-scaling guess; never written back.
   */
  fileMetadata?: Record<string, string>;
}

export interface ModelMetadata {
  classNames?: string[];
  /** How pixels are normalised before they reach the model: x / 255 * scale + offset (per channel for imagenet, caffe). */
  normalization?: Normalization;
  /** Free-form provenance: the run that produced the model, the method. */
  producedBy?: Record<string, unknown>;
}

export interface ModelEntry {
  path: string;
  isDirectory: boolean;
  names: string[];
}

export interface ModelImporter {
  readonly format: ModelFormat;
  match(entry: ModelEntry): boolean;
  open(entry: ModelEntry): Promise<LoadedModel>;
}
