/**
 * ONNX ModelProto / GraphProto / NodeProto / TensorProto / AttributeProto / ValueInfoProto,
 * decoded from the wire format with limits checked before allocation.
 */
import { badInput } from '../../../../shared/errors';
import { FIXED32, eachField, pushFloats, pushInts, text, type Field } from './wire';

export const ONNX_LIMITS = {
  maxFileBytes: 512 * 1024 * 1024,
  maxNodes: 20_000,
  maxTensorElements: 256 * 1024 * 1024,
  maxDims: 8,
  /** ModelProto.metadata_props: entries, and bytes of keys and values in all. */
  maxMetadataProps: 1024,
  maxMetadataBytes: 4 * 1024 * 1024,
};

export const DATA_TYPE = { FLOAT: 1, INT32: 6, INT64: 7 } as const;
const BYTES_PER_ELEMENT: Readonly<Record<number, number>> = { 1: 4, 6: 4, 7: 8 };

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  rawData?: Uint8Array;
  floatData: number[];
  int64Data: number[];
  int32Data: number[];
  /** data_location = EXTERNAL (1): key/value pairs location, offset, length. */
  external?: Record<string, string>;
}

export interface OnnxAttribute {
  name: string;
  f?: number;
  i?: number;
  s?: string;
  t?: OnnxTensor;
  floats: number[];
  ints: number[];
}

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
}

export interface OnnxValueInfo {
  name: string;
  elemType: number;
  /** Dimensions; a symbolic or missing dimension reads -1. */
  shape: number[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  graph: OnnxGraph;
  /** ModelProto.metadata_props (field 14), in file order; a repeated key keeps its last value. */
  metadataProps: Record<string, string>;
}

function decodeTensor(bytes: Uint8Array, file: string): OnnxTensor {
  const t: OnnxTensor = { name: '', dims: [], dataType: 0, floatData: [], int64Data: [], int32Data: [] };
  let location = 0;
  const external: Record<string, string> = {};
  eachField(bytes, file, 'tensor', (f) => {
    if (f.field === 1) pushInts(f, t.dims, file, 'tensor dims');
    else if (f.field === 2) t.dataType = f.int;
    else if (f.field === 4) pushFloats(f, t.floatData, file, 'tensor float_data');
    else if (f.field === 5) pushInts(f, t.int32Data, file, 'tensor int32_data');
    else if (f.field === 7) pushInts(f, t.int64Data, file, 'tensor int64_data');
    else if (f.field === 8) t.name = text(f.bytes);
    else if (f.field === 9) t.rawData = f.bytes;
    else if (f.field === 13) decodeEntry(f.bytes, file, external);
    else if (f.field === 14) location = f.int;
  });
  if (location === 1) t.external = external;
  checkTensorSize(t, file);
  return t;
}

function decodeEntry(bytes: Uint8Array, file: string, out: Record<string, string>): void {
  let key = '';
  let value = '';
  eachField(bytes, file, 'external_data entry', (f) => {
    if (f.field === 1) key = text(f.bytes);
    else if (f.field === 2) value = text(f.bytes);
  });
  out[key] = value;
}

/** The element count the dims declare, checked against the limit and against the stored bytes. */
export function tensorElements(t: OnnxTensor, file: string): number {
  if (t.dims.length > ONNX_LIMITS.maxDims) {
    throw badInput(
      file,
      `tensor "${t.name}" has ${t.dims.length} dimensions (at most ${ONNX_LIMITS.maxDims})`,
    );
  }
  let count = 1;
  for (const d of t.dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw badInput(file, `tensor "${t.name}" has dimension ${d}`);
    count *= d;
    if (count > ONNX_LIMITS.maxTensorElements) {
      throw badInput(
        file,
        `tensor "${t.name}" declares dims [${t.dims.join(', ')}], more than ${ONNX_LIMITS.maxTensorElements} elements`,
      );
    }
  }
  return count;
}

function checkTensorSize(t: OnnxTensor, file: string): void {
  const count = tensorElements(t, file);
  if (t.external) return;
  const width = BYTES_PER_ELEMENT[t.dataType];
  let have: number;
  let unit: string;
  if (t.rawData) {
    if (width === undefined) return;
    have = t.rawData.length;
    unit = 'bytes';
    if (have !== count * width) {
      throw badInput(
        file,
        `tensor "${t.name}" declares dims [${t.dims.join(', ')}] (${count * width} ${unit}) but holds ${have} ${unit}`,
      );
    }
    return;
  }
  have = t.floatData.length + t.int64Data.length + t.int32Data.length;
  if (have !== count) {
    throw badInput(
      file,
      `tensor "${t.name}" declares dims [${t.dims.join(', ')}] (${count} values) but holds ${have} values`,
    );
  }
}

function decodeAttribute(bytes: Uint8Array, file: string): OnnxAttribute {
  const a: OnnxAttribute = { name: '', floats: [], ints: [] };
  eachField(bytes, file, 'attribute', (f: Field) => {
    if (f.field === 1) a.name = text(f.bytes);
    else if (f.field === 2 && f.wireType === FIXED32) {
      a.f = new DataView(f.bytes.buffer, f.bytes.byteOffset, 4).getFloat32(0, true);
    } else if (f.field === 3) a.i = f.int;
    else if (f.field === 4) a.s = text(f.bytes);
    else if (f.field === 5) a.t = decodeTensor(f.bytes, file);
    else if (f.field === 7) pushFloats(f, a.floats, file, 'attribute floats');
    else if (f.field === 8) pushInts(f, a.ints, file, 'attribute ints');
  });
  return a;
}

function decodeNode(bytes: Uint8Array, file: string): OnnxNode {
  const n: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: new Map() };
  eachField(bytes, file, 'node', (f) => {
    if (f.field === 1) n.inputs.push(text(f.bytes));
    else if (f.field === 2) n.outputs.push(text(f.bytes));
    else if (f.field === 3) n.name = text(f.bytes);
    else if (f.field === 4) n.opType = text(f.bytes);
    else if (f.field === 5) {
      const a = decodeAttribute(f.bytes, file);
      n.attributes.set(a.name, a);
    } else if (f.field === 7) n.domain = text(f.bytes);
  });
  return n;
}

function decodeValueInfo(bytes: Uint8Array, file: string): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '', elemType: 0, shape: [] };
  eachField(bytes, file, 'value_info', (f) => {
    if (f.field === 1) v.name = text(f.bytes);
    else if (f.field === 2) {
      eachField(f.bytes, file, 'type', (tf) => {
        if (tf.field !== 1) return;
        eachField(tf.bytes, file, 'tensor type', (tt) => {
          if (tt.field === 1) v.elemType = tt.int;
          else if (tt.field === 2) decodeShape(tt.bytes, file, v.shape);
        });
      });
    }
  });
  return v;
}

function decodeShape(bytes: Uint8Array, file: string, out: number[]): void {
  eachField(bytes, file, 'shape', (f) => {
    if (f.field !== 1) return;
    let value = -1;
    eachField(f.bytes, file, 'dimension', (d) => {
      if (d.field === 1) value = d.int;
    });
    out.push(value);
  });
}

function decodeGraph(bytes: Uint8Array, file: string): OnnxGraph {
  const g: OnnxGraph = { name: '', nodes: [], initializers: [], inputs: [], outputs: [] };
  eachField(bytes, file, 'graph', (f) => {
    if (f.field === 1) {
      if (g.nodes.length >= ONNX_LIMITS.maxNodes) {
        throw badInput(file, `the graph has more than ${ONNX_LIMITS.maxNodes} nodes`);
      }
      g.nodes.push(decodeNode(f.bytes, file));
    } else if (f.field === 2) g.name = text(f.bytes);
    else if (f.field === 5) g.initializers.push(decodeTensor(f.bytes, file));
    else if (f.field === 11) g.inputs.push(decodeValueInfo(f.bytes, file));
    else if (f.field === 12) g.outputs.push(decodeValueInfo(f.bytes, file));
  });
  return g;
}

/** Size-checks, then decodes, the StringStringEntryProto entries of metadata_props. */
class MetadataReader {
  private readonly props = new Map<string, string>();
  private entries = 0;
  private bytes = 0;

  constructor(private readonly file: string) {}

  add(entry: Uint8Array): void {
    let key: Uint8Array = new Uint8Array(0);
    let value: Uint8Array = new Uint8Array(0);
    eachField(entry, this.file, 'metadata_props entry', (f) => {
      if (f.field === 1) key = f.bytes;
      else if (f.field === 2) value = f.bytes;
    });
    const name = key.length > 64 ? `${text(key.subarray(0, 60))}…` : text(key);
    if (++this.entries > ONNX_LIMITS.maxMetadataProps) {
      throw badInput(this.file, `metadata_props has more than ${ONNX_LIMITS.maxMetadataProps} entries`);
    }
    this.bytes += key.length + value.length;
    if (this.bytes > ONNX_LIMITS.maxMetadataBytes) {
      throw badInput(
        this.file,
        `metadata_props entry "${name}" (${key.length + value.length} bytes) takes the metadata past the ${ONNX_LIMITS.maxMetadataBytes}-byte limit`,
      );
    }
    this.props.set(text(key), text(value));
  }

  result(): Record<string, string> {
    return Object.fromEntries(this.props);
  }
}

/** Decodes a whole ModelProto. */
export function decodeModel(bytes: Uint8Array, file: string): OnnxModel {
  if (bytes.length > ONNX_LIMITS.maxFileBytes) {
    throw badInput(
      file,
      `the file is ${bytes.length} bytes, more than the ${ONNX_LIMITS.maxFileBytes}-byte limit`,
    );
  }
  let graph: OnnxGraph | undefined;
  let irVersion = 0;
  let opsetVersion = 0;
  let producerName = '';
  const metadata = new MetadataReader(file);
  eachField(bytes, file, 'model', (f) => {
    if (f.field === 1) irVersion = f.int;
    else if (f.field === 2) producerName = text(f.bytes);
    else if (f.field === 7) graph = decodeGraph(f.bytes, file);
    else if (f.field === 8) {
      let domain = '';
      let version = 0;
      eachField(f.bytes, file, 'opset_import', (o) => {
        if (o.field === 1) domain = text(o.bytes);
        else if (o.field === 2) version = o.int;
      });
      if (domain === '' || domain === 'ai.onnx') opsetVersion = version;
    } else if (f.field === 14) metadata.add(f.bytes);
  });
  if (!graph) throw badInput(file, 'not an ONNX model: no graph');
  return { irVersion, opsetVersion, producerName, graph, metadataProps: metadata.result() };
}
