import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openModel } from '../../model/registry';

const FIXTURES = path.join(__dirname, '../../../../../test/fixtures/onnx');

describe('ONNX importer in the model registry', () => {
  it('opens a torch-exported .onnx as a Layers model with NHWC input', async () => {
    const file = path.join(FIXTURES, 'plain-view.onnx');
    const loaded = await openModel(file);
    expect(loaded.format).toBe('onnx');
    expect(loaded.files).toEqual([file]);
    expect(loaded.model.inputs[0]?.shape).toEqual([null, 16, 16, 3]);
    expect(loaded.model.outputs[0]?.shape).toEqual([null, 10]);
    expect(loaded.model.countParams()).toBe(3030);
    expect(loaded.metadata.producedBy).toEqual({ importedFrom: 'onnx', producer: 'pytorch', opset: 13 });
  });
});
