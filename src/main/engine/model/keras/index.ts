import type { ModelImporter } from '../types';

/** Keras importers (.h5, .keras, weights-only .h5); filled in by the Keras work (issue 6). */
export const kerasImporters: ModelImporter[] = [];
