import { describe, expect, it, vi } from 'vitest';
import { DIALOGS } from './dialogs';

// Only the options are tested: Electron's runtime is not loaded under vitest.
vi.mock('electron', () => ({ dialog: {}, shell: {} }));

describe('native pickers', () => {
  it('the model picker offers .onnx beside model.json and the Keras files', () => {
    expect(DIALOGS['model-file'].filters).toEqual([
      {
        name: 'Models (model.json, Keras .h5, .keras, ONNX)',
        extensions: ['json', 'h5', 'hdf5', 'keras', 'onnx'],
      },
      { name: 'All files', extensions: ['*'] },
    ]);
    expect(DIALOGS['model-file'].properties).toEqual(['openFile']);
  });
});
