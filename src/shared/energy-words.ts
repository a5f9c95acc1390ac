/**
 * Energy labels in plain words, for the report and the app. The technical label
 * (`modelled:tdp-load`, …) stays beside them as the detail; the words say how the figure was
 * obtained, and for the CPU model whether it charges this job's CPU time or the whole machine's load.
 */

/** Plain words for a figure's label; `source` (what was read) refines them where it says more. */
export function plainEnergyLabel(label: string, source = ''): string {
  const gpu = /nvml|nvidia|gpu/i.test(source);
  switch (label) {
    case 'measured:counter':
      if (gpu) return "measured by the GPU's energy counter";
      if (/rapl/i.test(source)) return "measured by the CPU's energy counter (RAPL)";
      return 'measured by a hardware energy counter';
    case 'measured:sampled':
      if (gpu) return "measured: the GPU's power, sampled over time";
      if (/powermetrics/i.test(source)) return 'measured: power sampled over time (powermetrics)';
      return 'measured: power sampled over time';
    case 'modelled:tdp-load': {
      const power = /user-given/i.test(source) ? 'CPU power (user-given)' : 'CPU power';
      if (/this process only/i.test(source)) return `estimated: ${power} × this job's CPU time`;
      // Without the source the scope is unknown: say no more than is known.
      return source ? `estimated: ${power} × the machine's CPU load` : `estimated: ${power} × CPU load`;
    }
    case 'modelled:op-count': {
      const table = /(\d+\s*nm)/i.exec(source)?.[1]?.replace(/\s+/g, ' ');
      return `estimated from operation counts (${table ?? '45 nm'} table)`;
    }
    case 'unavailable':
      return 'not available';
    case 'measured':
      return 'measured';
    case 'counted':
      return 'counted';
    default:
      return label;
  }
}
