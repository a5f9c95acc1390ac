/**
 * Carbon: kWh × grid intensity × PUE. Intensities are Electricity Maps' yearly averages per
 * country and grid zone (2021 onwards), bundled offline in the `@tgwf/co2` package (CO2.js) rather
 * than copied into Pollard; each figure names the zone, year and source. A user intensity
 * overrides the table. Without a region or an intensity the figure is unavailable, never a guess.
 */
import electricityMaps from '@tgwf/co2/data/electricity-maps';
import { usageError } from '../../../shared/errors';
import type { CarbonFigure, EnergyFigure } from '../../../shared/types';

export const GRID_INTENSITY_SOURCE = 'Electricity Maps yearly average (bundled in CO2.js 0.19)';

export interface GridSettings {
  /** ISO 3166-1 alpha-2 country (`DE`) or Electricity Maps zone (`US-CAL-CISO`). */
  region?: string;
  /** Data year; default the latest bundled. */
  year?: number;
  /** gCO2e per kWh; overrides the table. */
  intensity?: number;
  /** Power usage effectiveness, ≥ 1; default 1.0 (a workstation). */
  pue?: number;
}

export interface GridIntensity {
  gCO2ePerKWh: number;
  source: string;
  region?: string;
  regionName?: string;
  year?: number;
}

/** Years with bundled data, newest first. */
export const GRID_YEARS: readonly number[] = Object.keys(electricityMaps)
  .map((key) => Number(/^yearly(\d{4})$/.exec(key)?.[1]))
  .filter((year) => Number.isInteger(year))
  .sort((a, b) => b - a);

function yearData(
  year: number,
): Record<string, { zone: { zoneName: string }; carbonIntensity: { value: number } }> {
  const data = electricityMaps[`yearly${year}`]?.data;
  if (!data)
    throw usageError(`grid intensity: no data for ${year}; bundled years are ${GRID_YEARS.join(', ')}`);
  return data;
}

/** Regions (countries and zones) with data for a year, for a settings picker. */
export function gridRegions(year: number = GRID_YEARS[0]!): { code: string; name: string }[] {
  return Object.entries(yearData(year)).map(([code, zone]) => ({ code, name: zone.zone.zoneName }));
}

/** Settings from POLLARD_GRID_REGION, POLLARD_GRID_YEAR, POLLARD_GRID_INTENSITY and POLLARD_PUE. */
export function gridSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): GridSettings {
  const number = (name: string): number | undefined => {
    const text = env[name];
    if (text === undefined || text.trim() === '') return undefined;
    const value = Number(text);
    if (!Number.isFinite(value)) throw usageError(`${name}: not a number: "${text}"`);
    return value;
  };
  const settings: GridSettings = {};
  const region = env.POLLARD_GRID_REGION?.trim();
  if (region) settings.region = region;
  const year = number('POLLARD_GRID_YEAR');
  if (year !== undefined) settings.year = year;
  const intensity = number('POLLARD_GRID_INTENSITY');
  if (intensity !== undefined) settings.intensity = intensity;
  const pue = number('POLLARD_PUE');
  if (pue !== undefined) settings.pue = pue;
  return settings;
}

/** The intensity the settings select; null when neither a region nor an intensity is set. */
export function gridIntensity(settings: GridSettings): GridIntensity | null {
  if (settings.intensity !== undefined) {
    if (!Number.isFinite(settings.intensity) || settings.intensity < 0) {
      throw usageError(`grid intensity must be a number of gCO2e/kWh ≥ 0, got ${settings.intensity}`);
    }
    return { gCO2ePerKWh: settings.intensity, source: 'user setting' };
  }
  if (settings.region === undefined) return null;
  const year = settings.year ?? GRID_YEARS[0]!;
  const region = settings.region.trim().toUpperCase();
  const zone = yearData(year)[region];
  if (!zone) {
    throw usageError(
      `grid region "${settings.region}" has no ${year} data; use a country code such as DE or a zone such as US-CAL-CISO`,
    );
  }
  return {
    gCO2ePerKWh: zone.carbonIntensity.value,
    source: `${region} (${zone.zone.zoneName}) ${year}, ${GRID_INTENSITY_SOURCE}`,
    region,
    regionName: zone.zone.zoneName,
    year,
  };
}

function checkPue(pue: number): number {
  if (!Number.isFinite(pue) || pue < 1) throw usageError(`PUE must be a number ≥ 1.0, got ${pue}`);
  return pue;
}

/** Grams of CO2e for `joules` (null: unavailable energy gives unavailable carbon). */
export function carbonGrams(
  joules: number | null,
  settings: GridSettings = {},
  energyReason?: string,
): CarbonFigure {
  const pue = checkPue(settings.pue ?? 1);
  const intensity = gridIntensity(settings);
  if (!intensity) {
    return {
      grams: null,
      gCO2ePerKWh: null,
      pue,
      intensitySource: 'none',
      reason: 'no grid region set: choose one (e.g. DE, US-CAL-CISO) or give an intensity in gCO2e/kWh',
    };
  }
  const base: CarbonFigure = {
    grams: null,
    gCO2ePerKWh: intensity.gCO2ePerKWh,
    pue,
    intensitySource: intensity.source,
    ...(intensity.region !== undefined ? { region: intensity.region } : {}),
    ...(intensity.year !== undefined ? { year: intensity.year } : {}),
  };
  if (joules === null) return { ...base, reason: energyReason ?? 'energy unavailable' };
  return { ...base, grams: (joules / 3.6e6) * intensity.gCO2ePerKWh * pue };
}

export function carbonForFigure(figure: EnergyFigure, settings: GridSettings = {}): CarbonFigure {
  return carbonGrams(figure.joules, settings, figure.reason ?? `energy ${figure.label}`);
}
