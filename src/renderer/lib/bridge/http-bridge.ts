/**
 * PollardApi over HTTP + WebSocket, talking to `pollard serve` (protocol in the README):
 * `POST /api/call/<method>` with `{ args }`, answers `{ ok, value }` or `{ ok: false, error }`;
 * job events on the WebSocket `/api/events`; uploads as one `PUT` per file, then
 * `finishUpload`. The token cookie was set by the server's redirect, so requests only need to
 * be same-origin.
 */
import {
  type ApiResponse,
  errorFromBridge,
  FINISH_UPLOAD_METHOD,
  type JobMessage,
  type PollardApi,
  SERVE_PATHS,
} from '../../../shared/api';
import { PollardError } from '../../../shared/errors';
import { relativePathOf } from '../files';
import { newBatchId, uploadUrlPath } from './upload-path';

export interface HttpBridgeOptions {
  /** Origin of `pollard serve`, e.g. "http://127.0.0.1:8123"; default: the page's own. */
  origin?: string;
  fetch?: typeof fetch;
  WebSocket?: typeof WebSocket;
  /** Delay before the first reconnect of the event stream; doubles up to 10 s. */
  reconnectMs?: number;
}

type Listener = (message: JobMessage) => void;

const NOT_SIGNED_IN =
  'pollard serve: not signed in; open the address with ?token=… that `pollard serve` printed';

export class HttpBridge implements PollardApi {
  private readonly origin: string;
  private readonly fetchImpl: typeof fetch;
  private readonly WebSocketImpl: typeof WebSocket;
  private readonly reconnectMs: number;
  private readonly listeners = new Set<Listener>();
  private readonly connectionListeners = new Set<(connected: boolean) => void>();
  private socket: WebSocket | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private retryDelay: number;
  private connectedNow = false;

  constructor(options: HttpBridgeOptions = {}) {
    this.origin = options.origin ?? globalThis.location.origin;
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.WebSocketImpl = options.WebSocket ?? globalThis.WebSocket;
    this.reconnectMs = options.reconnectMs ?? 500;
    this.retryDelay = this.reconnectMs;
  }

  // ---- calls --------------------------------------------------------------------------------

  private async request(url: string, init: RequestInit, what: string): Promise<Response> {
    try {
      return await this.fetchImpl(url, { credentials: 'same-origin', ...init });
    } catch (error) {
      throw new PollardError(
        'io',
        `${what}: pollard serve is not reachable (${(error as Error).message}); is it still running?`,
      );
    }
  }

  private async call<T>(method: string, args: unknown[]): Promise<T> {
    const response = await this.request(
      `${this.origin}${SERVE_PATHS.call}${method}`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ args }),
      },
      method,
    );
    if (response.status === 401) throw new PollardError('usage', NOT_SIGNED_IN);
    if (!response.ok)
      throw new PollardError('io', `${method}: pollard serve answered HTTP ${response.status}`);
    let body: ApiResponse<T>;
    try {
      body = (await response.json()) as ApiResponse<T>;
    } catch {
      throw new PollardError('io', `${method}: pollard serve sent an answer that is not JSON`);
    }
    if (body.ok) return body.value;
    throw errorFromBridge(body.error);
  }

  getSystemInfo: PollardApi['getSystemInfo'] = () => this.call('getSystemInfo', []);
  getSettings: PollardApi['getSettings'] = () => this.call('getSettings', []);
  updateSettings: PollardApi['updateSettings'] = (patch) => this.call('updateSettings', [patch]);
  describeDataset: PollardApi['describeDataset'] = (path) => this.call('describeDataset', [path]);
  inspectModel: PollardApi['inspectModel'] = (path) => this.call('inspectModel', [path]);
  planCompression: PollardApi['planCompression'] = (spec) => this.call('planCompression', [spec]);
  startJob: PollardApi['startJob'] = (spec) => this.call('startJob', [spec]);
  cancelJob: PollardApi['cancelJob'] = async (jobId) => {
    await this.call('cancelJob', [jobId]);
  };
  listJobs: PollardApi['listJobs'] = () => this.call('listJobs', []);
  listRuns: PollardApi['listRuns'] = () => this.call('listRuns', []);
  getRun: PollardApi['getRun'] = (runDir) => this.call('getRun', [runDir]);
  getRunEvents: PollardApi['getRunEvents'] = (runDir) => this.call('getRunEvents', [runDir]);
  resumeRun: PollardApi['resumeRun'] = (runDir) => this.call('resumeRun', [runDir]);
  exportRun: PollardApi['exportRun'] = (request) => this.call('exportRun', [request]);

  /** The browser has no native picker: the renderer shows an `<input type=file>` instead. */
  pickPath: PollardApi['pickPath'] = async () => null;

  openFolder: PollardApi['openFolder'] = async (path) => {
    throw new PollardError('usage', `not available in the browser; the files are in ${path} on the server`);
  };

  /** The browser opens the report's download link (`downloadUrlPath`) in a new tab instead. */
  openReport: PollardApi['openReport'] = async (path) => {
    throw new PollardError(
      'usage',
      `not available in the browser; open the report's link (${path} on the server)`,
    );
  };

  // ---- uploads ------------------------------------------------------------------------------

  resolveFiles: PollardApi['resolveFiles'] = async (files) => {
    if (files.length === 0) throw new PollardError('usage', 'resolveFiles: no files were given');
    const batchId = newBatchId();
    for (const file of files) {
      const relativePath = relativePathOf(file);
      const response = await this.request(
        `${this.origin}${uploadUrlPath(batchId, relativePath)}`,
        { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: file },
        relativePath,
      );
      if (response.status === 401) throw new PollardError('usage', NOT_SIGNED_IN);
      if (!response.ok) throw await uploadError(response, relativePath);
    }
    return this.call<string>(FINISH_UPLOAD_METHOD, [batchId]);
  };

  // ---- events -------------------------------------------------------------------------------

  subscribe: PollardApi['subscribe'] = (listener) => {
    this.listeners.add(listener);
    this.connect();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.disconnect();
    };
  };

  /** Whether the event stream is open; the UI shows a banner while it is not. */
  onConnectionChange(listener: (connected: boolean) => void): () => void {
    this.connectionListeners.add(listener);
    listener(this.connectedNow);
    return () => this.connectionListeners.delete(listener);
  }

  private setConnected(connected: boolean): void {
    if (connected === this.connectedNow) return;
    this.connectedNow = connected;
    for (const listener of this.connectionListeners) listener(connected);
  }

  private connect(): void {
    if (this.socket || this.reconnectTimer) return;
    const url = `${this.origin.replace(/^http/, 'ws')}${SERVE_PATHS.events}`;
    const socket = new this.WebSocketImpl(url);
    this.socket = socket;
    socket.onopen = () => {
      this.retryDelay = this.reconnectMs;
      this.setConnected(true);
    };
    socket.onmessage = (event: MessageEvent) => {
      if (typeof event.data !== 'string') return;
      let message: JobMessage;
      try {
        message = JSON.parse(event.data) as JobMessage;
      } catch {
        return;
      }
      if (typeof message?.jobId !== 'string' || typeof message.event?.type !== 'string') return;
      for (const listener of [...this.listeners]) listener(message);
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.setConnected(false);
      if (this.listeners.size === 0) return;
      // The server replays the buffered events of running jobs on connect; JobState skips repeats.
      this.reconnectTimer = setTimeout(() => {
        this.reconnectTimer = undefined;
        this.connect();
      }, this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, 10_000);
    };
  }

  private disconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    socket?.close();
    this.setConnected(false);
  }
}

async function uploadError(response: Response, relativePath: string): Promise<PollardError> {
  try {
    const body = (await response.json()) as ApiResponse;
    if (!body.ok) return errorFromBridge(body.error);
  } catch {
    // not JSON: describe the status below
  }
  if (response.status === 413)
    return new PollardError(
      'bad-input',
      `${relativePath}: too large to upload to pollard serve`,
      relativePath,
    );
  return new PollardError('io', `${relativePath}: upload failed (HTTP ${response.status})`, relativePath);
}
