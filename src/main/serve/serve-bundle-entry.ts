/** The bundled server's process entry; see serve-main.ts. */
import { serveMain } from './serve-main';

process.exitCode = await serveMain(process.argv.slice(2));
