/** `PUT /api/upload/<batch>/<path>`: one dropped file's bytes, streamed into the upload store. */
import { sanitizeUploadPath } from '../upload-path';
import { UploadError, type UploadStore } from '../uploads';
import { errorBody, refuseBody, type RouteRequest, sendJson } from '../http';

export function uploadRoute(
  uploads: UploadStore,
  log: (line: string) => void,
): (route: RouteRequest, rest: string) => Promise<void> {
  return async ({ request, response }, rest) => {
    if (request.method !== 'PUT') {
      response.setHeader('Allow', 'PUT');
      sendJson(response, 405, errorBody('usage', 'upload: use PUT'));
      return;
    }
    const [batchId = '', ...encoded] = rest.split('/');
    try {
      if (!/^[0-9a-f]{32}$/.test(batchId))
        throw new UploadError(400, 'upload: the batch id must be 32 lowercase hex characters');
      let segments: string[];
      try {
        segments = sanitizeUploadPath(encoded);
      } catch (error) {
        throw new UploadError(400, (error as Error).message);
      }
      const declared = request.headers['content-length'];
      const stored = await uploads.receive(
        batchId,
        segments,
        request,
        declared === undefined ? undefined : Number(declared),
      );
      sendJson(response, 200, { ok: true, value: stored });
    } catch (error) {
      const status = error instanceof UploadError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      if (status === 500) log(`pollard serve: upload failed: ${message}`);
      const reply = (): void =>
        sendJson(response, status, errorBody(status === 500 ? 'io' : 'usage', message));
      if (request.readableEnded) reply();
      else refuseBody(request, response, reply);
    }
  };
}
