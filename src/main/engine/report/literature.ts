/**
 * Published compression results beside a run: the rows of REFERENCES.md bundled as data
 * (literature.json) with their citations, chosen by the run's architecture. Where the table
 * has no row for the exact network, the closest published family is shown and said to be
 * the closest; where there is none, none is shown.
 */
import literature from './literature.json';
import type { LiteratureRow, LiteratureSection } from './report-types';

interface ArchitectureMatch {
  family: string;
  match: 'same' | 'closest';
  note: string;
}

const architectures = literature.architectures as Record<string, ArchitectureMatch | undefined>;

export const LITERATURE_CAUTION: string = literature.caution;

export function literatureFor(architecture: string | null): LiteratureSection {
  const base = { architecture, caution: LITERATURE_CAUTION };
  if (architecture === null) {
    return {
      ...base,
      match: 'none',
      note: 'The architecture is not one Pollard knows, so no published row is shown.',
      rows: [],
    };
  }
  const choice = Object.hasOwn(architectures, architecture) ? architectures[architecture] : undefined;
  if (!choice) {
    return {
      ...base,
      match: 'none',
      note: `No published row in Pollard's reference table is for ${architecture} or a close relative.`,
      rows: [],
    };
  }
  const rows: LiteratureRow[] = literature.rows
    .filter((row) => row.family === choice.family)
    .map(({ family: _family, ...row }) => row);
  return { ...base, match: choice.match, note: choice.note, rows };
}
