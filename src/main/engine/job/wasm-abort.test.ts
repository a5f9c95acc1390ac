import { expect, it } from 'vitest';
import { wasmAbortInJob } from './wasm-abort';

it('turns a WebAssembly abort into an out-of-memory error naming the job, its input and what is kept', () => {
  const error = wasmAbortInJob(
    { kind: 'compress', model: '/runs/vgg', data: '/data/fashion', out: '/runs/vgg-pruned' },
    new Error('Aborted(). Build with -sASSERTIONS for more info.'),
  );
  expect(error.code).toBe('oom');
  expect(error.file).toBe('/runs/vgg');
  expect(error.message).toBe(
    '/runs/vgg: WebAssembly aborted during compress: most likely its memory (at most 4 GiB) ran out; try a smaller --batch-size. Checkpoints already in /runs/vgg-pruned are intact. (Aborted(). Build with -sASSERTIONS for more info.)',
  );
});
