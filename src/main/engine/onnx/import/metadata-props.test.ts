import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openModel } from '../../model/registry';
import { inspectModel } from '../../model/summary';
import { ONNX_LIMITS, decodeModel } from './proto';
import { bytes } from './wire-test-helpers';

const FIXTURES = path.join(__dirname, '../../../../../test/fixtures/onnx');
const RESNET = path.join(FIXTURES, 'resnet.onnx');

const field = (n: number, payload: Uint8Array): Uint8Array => Uint8Array.from(bytes(n, payload));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
/** ModelProto.metadata_props (field 14): StringStringEntryProto {key = 1, value = 2}. */
const metadataProp = (key: string, value: string | Uint8Array): Uint8Array =>
  field(14, Buffer.concat([field(1, utf8(key)), field(2, typeof value === 'string' ? utf8(value) : value)]));

/** The torch-exported fixture with metadata_props appended (fields may come in any order). */
async function resnetWith(...props: Uint8Array[]): Promise<Uint8Array> {
  return Buffer.concat([new Uint8Array(await fs.readFile(RESNET)), ...props]);
}

describe('ONNX metadata_props', () => {
  it('are read by the proto reader, in file order, a repeated key keeping its last value', async () => {
    const bytes = await resnetWith(
      metadataProp('preprocessing', 'mean/std imagenet'),
      metadataProp('author', 'first'),
      metadataProp('author', 'second'),
    );
    const model = decodeModel(bytes, 'm.onnx');
    expect(model.metadataProps).toEqual({ preprocessing: 'mean/std imagenet', author: 'second' });
    expect(model.graph.nodes.length).toBeGreaterThan(0);
    expect(decodeModel(new Uint8Array(await fs.readFile(RESNET)), RESNET).metadataProps).toEqual({});
  });

  it('refuses oversized metadata with the file named, before decoding it', async () => {
    const huge = new Uint8Array(ONNX_LIMITS.maxMetadataBytes).fill(0x61);
    const bytes = await resnetWith(metadataProp('notes', huge));
    expect(() => decodeModel(bytes, 'big.onnx')).toThrow(
      'big.onnx: metadata_props entry "notes" (4194309 bytes) takes the metadata past the 4194304-byte limit',
    );
    const many = Array.from({ length: ONNX_LIMITS.maxMetadataProps + 1 }, (_, i) =>
      metadataProp(`k${i}`, 'v'),
    );
    expect(() => decodeModel(Buffer.concat(many), 'many.onnx')).toThrow(
      'many.onnx: metadata_props has more than 1024 entries',
    );
    expect(() => decodeModel(field(14, Uint8Array.from([0x0a, 0x05, 0x61])), 'cut.onnx')).toThrow(
      'cut.onnx: truncated or corrupt ONNX file: metadata_props entry: a field declares 5 bytes but only 1 remain',
    );
  });

  it('reach the input-scaling guess: inspect names the scaling and the metadata it read', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pollard-onnx-metadata-'));
    try {
      const plain = path.join(dir, 'plain.onnx');
      await fs.copyFile(RESNET, plain);
      expect((await inspectModel(plain)).inputScalingGuess).toBeUndefined();

      const described = path.join(dir, 'described.onnx');
      await fs.writeFile(
        described,
        await resnetWith(
          metadataProp('author', 'someone'),
          metadataProp('description', 'A ResNet; images scaled to [0,1] before the model.\nMore text.'),
        ),
      );
      expect((await inspectModel(described)).inputScalingGuess).toEqual({
        scaling: 'unit',
        // The reason quotes at most 60 characters.
        reason: 'metadata description = "A ResNet; images scaled to [0,1] before the model. More tex…"',
      });
      const loaded = await openModel(described);
      expect(loaded.fileMetadata).toEqual({
        author: 'someone',
        description: 'A ResNet; images scaled to [0,1] before the model. More text.',
      });
      loaded.model.dispose();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
