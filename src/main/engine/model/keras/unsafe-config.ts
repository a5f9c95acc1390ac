/**
 * The Keras-specific dangers in a model config, found before anything else reads it. Keras's
 * own loaders import whatever Python `module` a config names and unmarshal Lambda bytecode
 * (CVE-2024-3660, CVE-2025-1550, CVE-2025-8747, CVE-2025-9906); Pollard never runs Python, but
 * a file that tries any of this is hostile or unportable, and is refused outright.
 */
import { unsupported } from '../../../../shared/errors';
import { isRecord } from '../safe-json';

const KERAS_MODULE = /^(keras|tf_keras|tensorflow\.keras|tensorflow\.python\.keras)(\.|$)/;

function describeLayerPath(path: string[]): string {
  return path.length > 0 ? ` (in ${path.join(' > ')})` : '';
}

/**
 * Throws `unsupported(file, …)` when the config calls `enable_unsafe_deserialization`, names a
 * non-Keras Python module, holds a serialized Python function (`__lambda__`, `function` from
 * elsewhere than Keras), or registers a custom object (`registered_name` "package>Name").
 */
export function refuseUnsafeConfig(file: string, config: unknown): void {
  const visit = (value: unknown, path: string[]): void => {
    if (typeof value === 'string') {
      if (value.includes('enable_unsafe_deserialization')) {
        throw unsupported(
          file,
          `the config calls enable_unsafe_deserialization${describeLayerPath(path)}, which lets a Keras file run arbitrary code; Pollard refuses such files`,
        );
      }
      return;
    }
    if (Array.isArray(value)) {
      for (const item of value) visit(item, path);
      return;
    }
    if (!isRecord(value)) return;
    const ownName =
      typeof value.name === 'string'
        ? value.name
        : isRecord(value.config) && typeof value.config.name === 'string'
          ? value.config.name
          : undefined;
    const here = ownName !== undefined && path[path.length - 1] !== ownName ? [...path, ownName] : path;
    const className = value.class_name;
    const module = value.module;
    if (typeof module === 'string' && module !== '' && !KERAS_MODULE.test(module)) {
      throw unsupported(
        file,
        `the config imports Python module "${module}"${describeLayerPath(here)} (${describeClass(className)}); Pollard only opens built-in Keras objects`,
      );
    }
    if (className === '__lambda__' || className === 'Lambda' || className === '__function__') {
      const name =
        isRecord(value.config) && typeof value.config.name === 'string' ? value.config.name : undefined;
      const where = name !== undefined ? `layer "${name}"` : `an object${describeLayerPath(here)}`;
      throw unsupported(
        file,
        `${where} is a Lambda holding Python bytecode, which Pollard never runs; rebuild the model with standard layers`,
      );
    }
    const registered = value.registered_name;
    if (typeof registered === 'string' && registered.includes('>')) {
      const name =
        isRecord(value.config) && typeof value.config.name === 'string' ? value.config.name : undefined;
      const where = name !== undefined ? `layer "${name}"` : `object${describeLayerPath(here)}`;
      throw unsupported(
        file,
        `${where} uses the custom class "${registered}"; custom or subclassed Keras objects are not supported: rebuild the model with standard layers`,
      );
    }
    for (const [key, child] of Object.entries(value)) {
      if (key.includes('enable_unsafe_deserialization')) visit(key, here);
      visit(child, here);
    }
  };
  visit(config, []);
}

function describeClass(className: unknown): string {
  return typeof className === 'string' ? `class ${className}` : 'no class name';
}
