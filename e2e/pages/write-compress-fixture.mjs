// Writes the report tests' compress fixture into the folder given as the only argument and
// prints the paths as JSON. Run by run-fixtures.ts through Node with tsx's loader, since the
// fixture's engine modules import JSON files that Playwright's own loader refuses.
import { register } from 'tsx/esm/api';

register();
const { writeCompressFixture } = await import('../../src/main/engine/report/test-fixtures.ts');
process.stdout.write(JSON.stringify(await writeCompressFixture(process.argv[2])));
