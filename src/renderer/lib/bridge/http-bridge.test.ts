import { describe, expect, it } from 'vitest';
import type { JobMessage } from '../../../shared/api';
import { PollardError } from '../../../shared/errors';
import { setRelativePath } from '../files';
import { HttpBridge } from './http-bridge';

const ORIGIN = 'http://127.0.0.1:8123';

interface Recorded {
  url: string;
  method: string;
  body: unknown;
}

function fakeFetch(answer: (request: Recorded) => Response): { fetch: typeof fetch; requests: Recorded[] } {
  const requests: Recorded[] = [];
  const impl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const body = init?.body;
    const request: Recorded = {
      url: String(input),
      method: init?.method ?? 'GET',
      body: typeof body === 'string' ? JSON.parse(body) : body instanceof Blob ? await body.text() : body,
    };
    requests.push(request);
    return answer(request);
  };
  return { fetch: impl as typeof fetch, requests };
}

const json = (value: unknown, status = 200): Response =>
  new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });

class FakeSocket {
  static instances: FakeSocket[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: (() => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }
  close(): void {
    this.closed = true;
  }
  open(): void {
    this.onopen?.();
  }
  deliver(data: unknown): void {
    this.onmessage?.({ data: typeof data === 'string' ? data : JSON.stringify(data) });
  }
  drop(): void {
    this.onclose?.();
  }
}

describe('HttpBridge calls', () => {
  it('posts the arguments in order and returns the value', async () => {
    const { fetch, requests } = fakeFetch(() => json({ ok: true, value: { backend: 'auto', pue: 1.2 } }));
    const bridge = new HttpBridge({ origin: ORIGIN, fetch });
    await expect(bridge.updateSettings({ pue: 1.2 })).resolves.toEqual({ backend: 'auto', pue: 1.2 });
    expect(requests).toEqual([
      { url: `${ORIGIN}/api/call/updateSettings`, method: 'POST', body: { args: [{ pue: 1.2 }] } },
    ]);
  });

  it('rethrows the server error as a PollardError with its code and file', async () => {
    const { fetch } = fakeFetch(() =>
      json({
        ok: false,
        error: { code: 'bad-input', message: '/d/x.idx: bad magic number 2050', file: '/d/x.idx' },
      }),
    );
    const bridge = new HttpBridge({ origin: ORIGIN, fetch });
    const error = await bridge.describeDataset('/d/x.idx').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PollardError);
    expect(error).toMatchObject({
      code: 'bad-input',
      message: '/d/x.idx: bad magic number 2050',
      file: '/d/x.idx',
    });
  });

  it('says what to do when the token cookie is missing or the server is gone', async () => {
    const unauthorised = new HttpBridge({
      origin: ORIGIN,
      fetch: fakeFetch(() => new Response('', { status: 401 })).fetch,
    });
    await expect(unauthorised.listRuns()).rejects.toThrow(
      'pollard serve: not signed in; open the address with ?token=… that `pollard serve` printed',
    );
    const gone = new HttpBridge({
      origin: ORIGIN,
      fetch: (async () => {
        throw new TypeError('Failed to fetch');
      }) as typeof fetch,
    });
    await expect(gone.listJobs()).rejects.toThrow(
      'listJobs: pollard serve is not reachable (Failed to fetch); is it still running?',
    );
    const notFound = new HttpBridge({
      origin: ORIGIN,
      fetch: fakeFetch(() => new Response('', { status: 404 })).fetch,
    });
    await expect(notFound.getRun('/r')).rejects.toThrow('getRun: pollard serve answered HTTP 404');
  });

  it('has no picker and cannot open folders in the browser', async () => {
    const bridge = new HttpBridge({ origin: ORIGIN, fetch: fakeFetch(() => json({})).fetch });
    await expect(bridge.pickPath('dataset-folder')).resolves.toBeNull();
    await expect(bridge.openFolder('/srv/runs/x/export')).rejects.toThrow(
      'not available in the browser; the files are in /srv/runs/x/export on the server',
    );
  });
});

describe('HttpBridge uploads', () => {
  it('puts each file under one batch, keeping folder structure, then seals the batch', async () => {
    const { fetch, requests } = fakeFetch((r) =>
      r.method === 'PUT'
        ? new Response(null, { status: 201 })
        : json({ ok: true, value: '/data/uploads/b/sample' }),
    );
    const bridge = new HttpBridge({ origin: ORIGIN, fetch });
    const images = new File(['IMG'], 'train-images-idx3-ubyte.gz');
    const labels = new File(['LAB'], 'train-labels-idx1-ubyte.gz');
    setRelativePath(images, 'sample/train-images-idx3-ubyte.gz');
    setRelativePath(labels, 'sample/train-labels-idx1-ubyte.gz');
    await expect(bridge.resolveFiles([images, labels])).resolves.toBe('/data/uploads/b/sample');
    expect(requests).toHaveLength(3);
    const batchId = /\/api\/upload\/([0-9a-f]{32})\//.exec(requests[0]!.url)?.[1];
    expect(batchId).toMatch(/^[0-9a-f]{32}$/);
    expect(requests[0]).toEqual({
      url: `${ORIGIN}/api/upload/${batchId}/sample/train-images-idx3-ubyte.gz`,
      method: 'PUT',
      body: 'IMG',
    });
    expect(requests[1]!.url).toBe(`${ORIGIN}/api/upload/${batchId}/sample/train-labels-idx1-ubyte.gz`);
    expect(requests[2]).toEqual({
      url: `${ORIGIN}/api/call/finishUpload`,
      method: 'POST',
      body: { args: [batchId] },
    });
  });

  it('stops at the first refused file and names it', async () => {
    const { fetch, requests } = fakeFetch(() => new Response('too large', { status: 413 }));
    const bridge = new HttpBridge({ origin: ORIGIN, fetch });
    await expect(
      bridge.resolveFiles([new File(['x'], 'big.h5'), new File(['y'], 'other.h5')]),
    ).rejects.toThrow('big.h5: too large to upload to pollard serve');
    expect(requests).toHaveLength(1);
    await expect(bridge.resolveFiles([])).rejects.toThrow('resolveFiles: no files were given');
  });
});

describe('HttpBridge events', () => {
  it('shares one socket, reconnects while someone listens, and closes after the last unsubscribe', async () => {
    FakeSocket.instances = [];
    const bridge = new HttpBridge({
      origin: ORIGIN,
      fetch: fakeFetch(() => json({})).fetch,
      WebSocket: FakeSocket as unknown as typeof WebSocket,
      reconnectMs: 5,
    });
    const connection: boolean[] = [];
    bridge.onConnectionChange((c) => connection.push(c));
    const a: JobMessage[] = [];
    const b: JobMessage[] = [];
    const stopA = bridge.subscribe((m) => a.push(m));
    const stopB = bridge.subscribe((m) => b.push(m));
    expect(FakeSocket.instances).toHaveLength(1);
    const socket = FakeSocket.instances[0]!;
    expect(socket.url).toBe('ws://127.0.0.1:8123/api/events');
    socket.open();
    const message = { jobId: 'j1', event: { type: 'stage', stage: 'load', seq: 0, time: 1 } };
    socket.deliver(message);
    socket.deliver('not json');
    socket.deliver({ hello: 'world' });
    expect(a).toEqual([message]);
    expect(b).toEqual([message]);

    socket.drop();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(FakeSocket.instances).toHaveLength(2);
    FakeSocket.instances[1]!.open();
    expect(connection).toEqual([false, true, false, true]);

    stopA();
    expect(FakeSocket.instances[1]!.closed).toBe(false);
    stopB();
    expect(FakeSocket.instances[1]!.closed).toBe(true);
    expect(connection.at(-1)).toBe(false);
  });
});
