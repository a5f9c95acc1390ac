/** `POST /api/call/<method>` with `{"args": [...]}` → `{"ok": true, "value"}` | `{"ok": false, "error"}`. */
import { type ApiHandlers, dispatchApiCall, isApiMethod } from '../../services/api-methods';
import { errorBody, HttpError, readBody, refuseBody, type RouteRequest, sendJson } from '../http';

/** Largest API request body. */
export const API_BODY_LIMIT = 1024 * 1024;

export function apiCallRoute(handlers: ApiHandlers): (route: RouteRequest, method: string) => Promise<void> {
  return async ({ request, response }, method) => {
    if (request.method !== 'POST') {
      response.setHeader('Allow', 'POST');
      sendJson(response, 405, errorBody('usage', `${method}: use POST`));
      return;
    }
    if (!isApiMethod(method) || !handlers[method]) {
      sendJson(response, 404, errorBody('usage', `unknown method "${method}"`));
      return;
    }
    const malformed = `${method}: the request body must be JSON: {"args": [...]}`;
    let body: unknown;
    try {
      body = JSON.parse((await readBody(request, API_BODY_LIMIT)).toString('utf8'));
    } catch (error) {
      if (error instanceof HttpError) {
        refuseBody(request, response, () =>
          sendJson(response, error.status, errorBody('usage', `${method}: ${error.message}`)),
        );
        return;
      }
      sendJson(response, 400, errorBody('usage', malformed));
      return;
    }
    if (typeof body !== 'object' || body === null || !('args' in body)) {
      sendJson(response, 400, errorBody('usage', malformed));
      return;
    }
    sendJson(response, 200, await dispatchApiCall(handlers, method, (body as { args: unknown }).args));
  };
}
