/** `pollard report <run>`: the energy-savings report of a run folder. */
import { type Command, Option } from 'commander';
import { type JobSpecInput, REPORT_FORMATS } from '../../../shared/jobs';
import {
  absolute,
  type ActionOf,
  common,
  type CommonFlags,
  nonNegative,
  parseSpec,
  positive,
  reportFormats,
  withCommon,
} from '../options';

interface ReportFlags extends CommonFlags {
  format: string[];
  out?: string;
  paper?: string;
  gridRegion?: string;
  gridIntensity?: number;
  pue?: number;
}

function gridOf(flags: ReportFlags): Record<string, unknown> {
  if (flags.gridRegion === undefined && flags.gridIntensity === undefined && flags.pue === undefined)
    return {};
  return {
    grid: {
      ...(flags.gridRegion !== undefined ? { region: flags.gridRegion } : {}),
      ...(flags.gridIntensity !== undefined ? { intensity: flags.gridIntensity } : {}),
      ...(flags.pue !== undefined ? { pue: flags.pue } : {}),
    },
  };
}

export function addReportCommand(program: Command, action: ActionOf): void {
  withCommon(
    program
      .command('report')
      .description('the energy-savings report of a run folder (compress, demo or train run)')
      .argument('<run>', 'run folder', absolute)
      .requiredOption(
        '--format <formats>',
        `one or more of ${REPORT_FORMATS.join(', ')}, comma-separated`,
        reportFormats,
      )
      .option('--out <path>', 'folder, or a file for one format (default: <run>/report/)', absolute)
      .addOption(new Option('--paper <size>', 'PDF paper size (default: a4)').choices(['a4', 'letter']))
      .option(
        '--grid-region <code>',
        'grid region for carbon, e.g. DE or US-CAL-CISO (default: $POLLARD_GRID_REGION; none: no carbon figure)',
      )
      .option('--grid-intensity <g>', 'grid intensity in gCO2e/kWh (overrides the region)', nonNegative)
      .option('--pue <f>', 'power usage effectiveness (default: 1.0)', positive),
  ).action(
    action(async (run: string, flags: ReportFlags) =>
      parseSpec({
        kind: 'report',
        run,
        formats: flags.format,
        ...(flags.out ? { out: flags.out } : {}),
        ...(flags.paper ? { paper: flags.paper } : {}),
        ...gridOf(flags),
        ...common(flags),
      } as JobSpecInput),
    ),
  );
}
