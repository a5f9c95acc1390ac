/** The energy engine's public surface: sources, the meter, the protocol, op-count and carbon. */
export { EnergyMeter } from './meter';
export type {
  EnergySnapshot,
  EnergyWindow,
  IdlePower,
  MeterOptions,
  MeterSourceState,
  SourceWindow,
} from './meter';
export { defaultEnergySources, probeEnergySources } from './sources';
export type { EnergySourceInfo, EnergySourceOptions } from './sources';
export { compareEnergy, measureInferenceEnergy, summariseEpochEnergy } from './protocol';
export type {
  EnergyComparison,
  InferenceEnergyOptions,
  InferenceEnergyResult,
  ModelInferenceEnergy,
  ModelRole,
  SourceInferenceEnergy,
} from './protocol';
export {
  BUNDLED_OP_ENERGY_TABLES,
  DEFAULT_OP_ENERGY_TABLE,
  loadOpEnergyTable,
  opCountEnergy,
} from './op-count';
export type { OpCountEnergy, OpCountLayerEnergy, OpCountOptions, OpEnergyTable } from './op-count';
export {
  carbonForFigure,
  carbonGrams,
  GRID_YEARS,
  gridIntensity,
  gridRegions,
  gridSettingsFromEnv,
} from './carbon';
export type { GridIntensity, GridSettings } from './carbon';
export { spread, summariseFigures } from './stats';
export type { Spread } from './stats';
export type { EnergyPart, EnergyReader, EnergySource, ProbeResult, ReaderMark } from './types';
