/**
 * Readers for the MAC rules (docs/macs.md): a layer's tfjs config (camelCase) and call shapes,
 * batch dimension excluded; an undefined dimension (a variable sequence length) counts as 1.
 */
type Config = Record<string, unknown>;
type Dims = readonly (number | null)[];

export function dim(d: number | null | undefined): number {
  return typeof d === 'number' && d > 0 ? d : 1;
}

export function dimsProduct(dims: Dims): number {
  return dims.reduce<number>((a, d) => a * dim(d), 1);
}

export function isChannelsFirst(config: Config): boolean {
  return config.dataFormat === 'channelsFirst' || config.dataFormat === 'channels_first';
}

/** [positions, channels] of an N-D feature map (batch excluded). */
export function splitChannels(shape: Dims, config: Config): [number, number] {
  const rest = shape.slice(1);
  if (rest.length === 0) return [1, 1];
  if (isChannelsFirst(config)) return [dimsProduct(rest.slice(1)), dim(rest[0])];
  return [dimsProduct(rest.slice(0, -1)), dim(rest[rest.length - 1])];
}

/** The kernel's spatial size, K_h · K_w. */
export function kernelSize(config: Config): number {
  const k = config.kernelSize ?? config.kernel_size;
  if (typeof k === 'number') return k;
  return Array.isArray(k) ? dimsProduct(k as number[]) : 1;
}

export function numberField(config: Config, camel: string, snake: string, fallback: number): number {
  const v = config[camel] ?? config[snake];
  return typeof v === 'number' ? v : fallback;
}

/** Wrapped layer of Bidirectional / TimeDistributed: `{className, config}` in tfjs's getConfig. */
export function wrappedLayer(config: Config): { className: string; config: Config } | undefined {
  const inner = config.layer as Config | undefined;
  if (inner === undefined || inner === null) return undefined;
  const className = (inner.className ?? inner.class_name) as string | undefined;
  const innerConfig = inner.config as Config | undefined;
  return className !== undefined && innerConfig !== undefined
    ? { className, config: innerConfig }
    : undefined;
}
