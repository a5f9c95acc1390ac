/** Compression and evaluation read one image tensor in and one class vector out. */
import { PollardError } from '../../../shared/errors';
import type { LayersModel } from '../tf';

const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

/** Every input and output shape of a model, batch axis included (`null`). */
export function ioShapes(model: LayersModel): { inputs: (number | null)[][]; outputs: (number | null)[][] } {
  return {
    inputs: model.inputs.map((tensor) => [...tensor.shape]),
    outputs: model.outputs.map((tensor) => [...tensor.shape]),
  };
}

/** Refuses a model with more than one input or output, naming `file`, before any data is read. */
export function requireSingleInputOutput(model: LayersModel, file: string): void {
  const inputs = model.inputs.length;
  const outputs = model.outputs.length;
  if (inputs === 1 && outputs === 1) return;
  throw new PollardError(
    'unsupported',
    `Pollard compresses single-input, single-output classifiers; ${file} has ${count(inputs, 'input')} and ${count(outputs, 'output')}.`,
    file,
  );
}
