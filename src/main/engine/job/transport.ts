/**
 * The job process talks to its host over whichever channel started it: Electron's
 * utilityProcess (`process.parentPort`) or Node's `child_process.fork` (`process.send`).
 */
import type { JobCommand, JobEvent } from '../../../shared/jobs';

export interface Transport {
  send(event: JobEvent): Promise<void>;
  onCommand(listener: (command: JobCommand) => void): void;
}

interface ParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}

export function processTransport(): Transport {
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort) {
    return {
      send: (event) => {
        parentPort.postMessage(event);
        return Promise.resolve();
      },
      onCommand: (listener) => parentPort.on('message', (message) => listener(message.data as JobCommand)),
    };
  }
  if (typeof process.send === 'function') {
    return {
      send: (event) =>
        new Promise<void>((resolve) => {
          // The callback fires once the message is handed to the channel (or it failed, e.g. the host died).
          process.send!(event, undefined, {}, () => resolve());
        }),
      onCommand: (listener) => process.on('message', (message) => listener(message as JobCommand)),
    };
  }
  throw new Error('the job process must be started by a job host (no IPC channel)');
}
