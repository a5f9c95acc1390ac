import { describe, expect, it } from 'vitest';
import { carbonForFigure, carbonGrams, GRID_YEARS, gridRegions, gridSettingsFromEnv } from './carbon';

describe('carbon', () => {
  it('bundles Electricity Maps years 2021 to 2025 offline', () => {
    expect(GRID_YEARS).toEqual([2025, 2024, 2023, 2022, 2021]);
    expect(gridRegions(2024)).toContainEqual({ code: 'DE', name: 'Germany' });
    expect(gridRegions(2024)).toContainEqual({ code: 'US-CAL-CISO', name: 'CAISO' });
  });

  it('is kWh × intensity × PUE, naming zone, year and source', () => {
    // Germany 2024: 341 gCO2eq/kWh in the bundled data; 3.6 MJ = 1 kWh.
    expect(carbonGrams(3.6e6, { region: 'de', year: 2024 })).toEqual({
      grams: 341,
      gCO2ePerKWh: 341,
      pue: 1,
      intensitySource: 'DE (Germany) 2024, Electricity Maps yearly average (bundled in CO2.js 0.19)',
      region: 'DE',
      year: 2024,
    });
    expect(carbonGrams(7.2e6, { region: 'DE', year: 2024, pue: 1.5 }).grams).toBeCloseTo(1023, 9);
    expect(carbonGrams(1.8e6, { intensity: 100, region: 'DE' })).toEqual({
      grams: 50,
      gCO2ePerKWh: 100,
      pue: 1,
      intensitySource: 'user setting',
    });
  });

  it('is unavailable, not 0, without a region or without energy', () => {
    expect(carbonGrams(1000)).toEqual({
      grams: null,
      gCO2ePerKWh: null,
      pue: 1,
      intensitySource: 'none',
      reason: 'no grid region set: choose one (e.g. DE, US-CAL-CISO) or give an intensity in gCO2e/kWh',
    });
    const figure = { joules: null, label: 'unavailable' as const, source: 'RAPL', reason: 'no powercap' };
    expect(carbonForFigure(figure, { intensity: 300 })).toMatchObject({ grams: null, reason: 'no powercap' });
  });

  it('rejects bad settings with the setting named', () => {
    expect(() => carbonGrams(1, { region: 'XX' })).toThrow(
      'grid region "XX" has no 2025 data; use a country code such as DE or a zone such as US-CAL-CISO',
    );
    expect(() => carbonGrams(1, { region: 'DE', year: 1999 })).toThrow(
      'grid intensity: no data for 1999; bundled years are 2025, 2024, 2023, 2022, 2021',
    );
    expect(() => carbonGrams(1, { intensity: 100, pue: 0.8 })).toThrow('PUE must be a number ≥ 1.0, got 0.8');
    expect(() => carbonGrams(1, { intensity: -1 })).toThrow(
      'grid intensity must be a number of gCO2e/kWh ≥ 0, got -1',
    );
    expect(
      gridSettingsFromEnv({ POLLARD_GRID_REGION: 'FR', POLLARD_GRID_YEAR: '2023', POLLARD_PUE: '1.2' }),
    ).toEqual({
      region: 'FR',
      year: 2023,
      pue: 1.2,
    });
    expect(() => gridSettingsFromEnv({ POLLARD_GRID_INTENSITY: 'lots' })).toThrow(
      'POLLARD_GRID_INTENSITY: not a number: "lots"',
    );
  });
});
