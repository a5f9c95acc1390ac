import { tf, tfl } from './tf';

/** Versions recorded in every run and report, for reproducibility. */
export function engineVersions(): Record<string, string> {
  return {
    node: process.versions.node,
    'tfjs-core': tf.version_core,
    'tfjs-layers': tfl.version_layers,
    ...(process.versions.electron ? { electron: process.versions.electron } : {}),
  };
}
