import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// ../tf loads tfjs-layers, which registers every layer class in the serialization map.
import { tf } from '../tf';
import { supportedLayers } from './layers/registry';
import { refusedLayerHint, supportedLayersMarkdown } from './supported-layers';

describe('supported layers', () => {
  it('docs/layers.md is generated from the allow-list (regenerate with supportedLayersMarkdown())', () => {
    const doc = readFileSync(path.resolve(__dirname, '../../../../docs/layers.md'), 'utf8');
    expect(doc).toBe(supportedLayersMarkdown());
  });

  it('lists only layers TensorFlow.js can deserialize', () => {
    const registered = tf.serialization.SerializationMap.getMap().classNameMap;
    const missing = supportedLayers()
      .map((entry) => entry.className)
      .filter((name) => name !== 'Functional' && !Object.hasOwn(registered, name));
    expect(missing).toEqual([]);
  });

  it('never reads a hint from Object.prototype', () => {
    expect(refusedLayerHint('constructor')).toBe(
      'custom or unknown layers are not supported; see docs/layers.md for the layers Pollard opens',
    );
    expect(refusedLayerHint('Lambda')).toContain('Python code');
  });
});
