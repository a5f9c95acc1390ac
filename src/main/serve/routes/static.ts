/** `GET /`, `/assets/…`: the built renderer (out/renderer). */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { cacheControlOf, contentTypeOf, findStaticFile } from '../../services/static-files';
import { type RouteRequest, sendText } from '../http';

export function staticRoute(rendererDir: string): (route: RouteRequest) => Promise<void> {
  const root = path.resolve(rendererDir);
  return async ({ request, response, rawPath }) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      sendText(response, 405, 'method not allowed');
      return;
    }
    const found = await findStaticFile(root, rawPath);
    if (!found) {
      if (rawPath === '/') {
        sendText(
          response,
          503,
          `the renderer is not built (${path.join(root, 'index.html')} is missing): run npm run build:renderer`,
        );
      } else sendText(response, 404, 'not found');
      return;
    }
    response.writeHead(200, {
      'Content-Type': contentTypeOf(found.file),
      'Content-Length': found.bytes,
      'Cache-Control': cacheControlOf(rawPath),
    });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    createReadStream(found.file)
      .on('error', () => response.destroy())
      .pipe(response);
  };
}
