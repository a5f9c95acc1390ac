/**
 * The path every Keras file takes from its model config to a tfjs model with its weights:
 * unsafe content refused → Keras 3 layout translated → Keras-only attributes fixed or refused
 * → allow-lists (validateTopology) → sizes inferred before anything is allocated (inferModel)
 * → stored weight count compared with the count the config implies → built → weights
 * assigned with every shape checked.
 */
import { badInput, PollardError, unsupported } from '../../../../shared/errors';
import { tf, tfl, type LayersModel } from '../../tf';
import { inferModel, type InferredModel } from '../infer-shapes';
import { isRecord } from '../safe-json';
import { validateTopology, type LayerEntry } from '../validate-topology';
import { assignWeights, storedElementCount } from './assign-weights';
import { applyKerasFixups, replaceRankTwoFlatten } from './keras-fixups';
import type { StoredLayerWeights } from './keras2-weights';
import { translateKeras3Config } from './keras3-config';
import { refuseUnsafeConfig } from './unsafe-config';

export type KerasConfigFlavour = 'keras2' | 'keras3';

export interface CheckedKerasConfig {
  /** Keras 2 layout, checked: what tfjs is given. */
  model: LayerEntry;
  inferred: InferredModel;
}

/** Checks and normalizes a raw model config (the parsed `model_config` or `config.json`). */
export function checkKerasConfig(
  file: string,
  raw: unknown,
  flavour: KerasConfigFlavour,
): CheckedKerasConfig {
  refuseUnsafeConfig(file, raw);
  if (!isRecord(raw)) throw badInput(file, 'the model config is not a JSON object');
  const keras2 = flavour === 'keras3' ? translateKeras3Config(file, raw) : structuredClone(raw);
  applyKerasFixups(file, keras2, { keras3: flavour === 'keras3' });
  const { model } = validateTopology(keras2, file);
  const inferred = inferModel(model, file);
  replaceRankTwoFlatten(model, new Map(inferred.layers.map((layer) => [layer.name, layer.outputShapes])));
  return { model, inferred };
}

/**
 * Builds the checked config with tfjs (nothing loaded yet: initial weights). The build runs in
 * an engine scope: tfjs leaves initializer intermediates untracked (LSTM's unit_forget_bias
 * leaks four tensors per layer), and a failed build leaves half its variables behind.
 */
export async function buildLayersModel(file: string, checked: CheckedKerasConfig): Promise<LayersModel> {
  const engine = tf.engine();
  const variablesBefore = new Set(Object.keys(engine.registeredVariables));
  engine.startScope();
  try {
    const model = await tfl.models.modelFromJSON({ modelTopology: checked.model as never });
    engine.endScope();
    return model;
  } catch (error) {
    engine.endScope();
    for (const [name, variable] of Object.entries(engine.registeredVariables)) {
      if (!variablesBefore.has(name)) variable.dispose();
    }
    if (error instanceof PollardError) throw error;
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw unsupported(file, `TensorFlow.js could not build the model: ${message}`);
  }
}

/**
 * Builds the model and loads `stored` into it. The totals are compared before the build, so a
 * config that disagrees with its own weights allocates nothing.
 */
export async function buildWithWeights(
  file: string,
  checked: CheckedKerasConfig,
  stored: StoredLayerWeights,
  options: { byName: boolean },
): Promise<LayersModel> {
  const storedCount = storedElementCount(stored);
  if (storedCount !== checked.inferred.params) {
    throw badInput(
      file,
      `the file stores ${storedCount} weight values but its model config implies ${checked.inferred.params}`,
    );
  }
  const model = await buildLayersModel(file, checked);
  try {
    assignWeights(file, model, stored, options);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return model;
}
