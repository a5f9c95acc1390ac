/**
 * A minimal ONNX model writer, opset 13: the small fixed-shape graphs the native kernels run
 * (native-conv.ts), and whole exported models (engine/onnx/), whose weights are typed tensors
 * stored as raw_data and whose batch dimension is symbolic.
 *
 * ONNX models are protobuf messages (onnx.proto, proto2). Only what those graphs need is
 * encoded here, by hand, in a few field encoders (no protobuf dependency):
 *   ModelProto { ir_version = 1, producer_name = 2, graph = 7, opset_import = 8 }
 *   OperatorSetIdProto { domain = 1, version = 2 }
 *   GraphProto { node = 1, name = 2, initializer = 5, input = 11, output = 12 }
 *   NodeProto { input = 1, output = 2, name = 3, op_type = 4, attribute = 5 }
 *   AttributeProto { name = 1, f = 2, i = 3, ints = 8, type = 20 (FLOAT 1, INT 2, INTS 7) }
 *   TensorProto { dims = 1, data_type = 2, float_data = 4, int64_data = 7, name = 8, raw_data = 9 }
 *     (data_type FLOAT 1, UINT8 2, INT8 3, INT32 6, INT64 7; raw_data little-endian)
 *   ValueInfoProto { name = 1, type = 2 } → TypeProto { tensor_type = 1 }
 *     → TypeProto.Tensor { elem_type = 1, shape = 2 } → TensorShapeProto { dim = 1 }
 *     → Dimension { dim_value = 1, dim_param = 2 }
 * Repeated scalars are written unpacked (one tag per element), as proto2 expects.
 */

export type AttributeValue = number | number[] | { float: number };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, AttributeValue>;
}

export interface OnnxValue {
  name: string;
  /** -1 is a symbolic dimension (dim_param): `batch` first, `dim<i>` elsewhere. */
  shape: readonly number[];
  /** Write no shape at all (rank unknown): intermediate tensors fetched for calibration. */
  shapeUnknown?: boolean;
}

/** A constant tensor (weights, quantization scales and zero points), stored as raw_data. */
export interface OnnxTensor {
  name: string;
  dims: readonly number[];
  data: Float32Array | Int8Array | Uint8Array | Int32Array;
}

export interface OnnxGraph {
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  nodes: OnnxNode[];
  /** Constant int64 tensors (e.g. Reshape's target shape), by name. */
  int64Initializers?: Record<string, number[]>;
  /** Constant float32 scalars (e.g. Clip's bounds), by name. */
  floatScalars?: Record<string, number>;
  /** Constant typed tensors, in order. */
  tensors?: OnnxTensor[];
}

export const ONNX_OPSET = 13;
const IR_VERSION = 7; // the IR version that introduced opset 13
const FLOAT = 1;
const UINT8 = 2;
const INT8 = 3;
const INT32 = 6;
const INT64 = 7;

/** Protobuf wire types. */
const VARINT = 0;
const FIXED32 = 5;
const LENGTH_DELIMITED = 2;

class Writer {
  // Small fields collect in `pending`; big byte fields (weights) are kept as chunks, uncopied.
  private readonly chunks: Uint8Array[] = [];
  private pending: number[] = [];

  private varint(value: number): void {
    // int64 fields: negative numbers take ten bytes in two's complement.
    let v = BigInt.asUintN(64, BigInt(value));
    do {
      let byte = Number(v & 0x7fn);
      v >>= 7n;
      if (v !== 0n) byte |= 0x80;
      this.pending.push(byte);
    } while (v !== 0n);
  }

  private tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.chunks.push(Uint8Array.from(this.pending));
    this.pending = [];
  }

  int(field: number, value: number): this {
    this.tag(field, VARINT);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.tag(field, FIXED32);
    const buffer = new DataView(new ArrayBuffer(4));
    buffer.setFloat32(0, value, true);
    for (let i = 0; i < 4; i++) this.pending.push(buffer.getUint8(i));
    return this;
  }

  bytesField(field: number, value: Uint8Array): this {
    this.tag(field, LENGTH_DELIMITED);
    this.varint(value.length);
    if (value.length < 64) {
      for (const byte of value) this.pending.push(byte);
    } else {
      this.flush();
      this.chunks.push(value);
    }
    return this;
  }

  string(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  message(field: number, inner: Writer): this {
    return this.bytesField(field, inner.finish());
  }

  finish(): Uint8Array {
    this.flush();
    if (this.chunks.length === 1) return this.chunks[0]!;
    const out = new Uint8Array(this.chunks.reduce((sum, c) => sum + c.length, 0));
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

function attribute(name: string, value: AttributeValue): Writer {
  const w = new Writer().string(1, name);
  if (Array.isArray(value)) {
    for (const v of value) w.int(8, v);
    return w.int(20, 7);
  }
  if (typeof value === 'object') return w.float(2, value.float).int(20, 1);
  return w.int(3, value).int(20, 2);
}

function node(n: OnnxNode, index: number): Writer {
  const w = new Writer();
  for (const input of n.inputs) w.string(1, input);
  for (const output of n.outputs) w.string(2, output);
  w.string(3, `n${index}`).string(4, n.op);
  for (const [name, value] of Object.entries(n.attributes ?? {})) w.message(5, attribute(name, value));
  return w;
}

function valueInfo(value: OnnxValue): Writer {
  const tensorType = new Writer().int(1, FLOAT);
  if (!value.shapeUnknown) {
    const shape = new Writer();
    value.shape.forEach((d, i) => {
      const symbol = i === 0 ? 'batch' : `dim${i}`;
      shape.message(1, d === -1 ? new Writer().string(2, symbol) : new Writer().int(1, d));
    });
    tensorType.message(2, shape);
  }
  return new Writer().string(1, value.name).message(2, new Writer().message(1, tensorType));
}

function int64Tensor(name: string, values: number[]): Writer {
  const w = new Writer().int(1, values.length).int(2, INT64);
  for (const v of values) w.int(7, v);
  return w.string(8, name);
}

function floatScalar(name: string, value: number): Writer {
  return new Writer().int(2, FLOAT).float(4, value).string(8, name);
}

function typedTensor(tensor: OnnxTensor): Writer {
  const w = new Writer();
  for (const d of tensor.dims) w.int(1, d);
  const { data } = tensor;
  const type =
    data instanceof Float32Array
      ? FLOAT
      : data instanceof Int8Array
        ? INT8
        : data instanceof Uint8Array
          ? UINT8
          : INT32;
  // raw_data is little-endian, as are the typed arrays on every platform Pollard runs on.
  return w
    .int(2, type)
    .string(8, tensor.name)
    .bytesField(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/** The serialized ModelProto of a single graph. */
export function encodeOnnxModel(graph: OnnxGraph): Uint8Array {
  const g = new Writer();
  graph.nodes.forEach((n, i) => g.message(1, node(n, i)));
  g.string(2, 'pollard');
  for (const [name, values] of Object.entries(graph.int64Initializers ?? {})) {
    g.message(5, int64Tensor(name, values));
  }
  for (const [name, value] of Object.entries(graph.floatScalars ?? {}))
    g.message(5, floatScalar(name, value));
  for (const tensor of graph.tensors ?? []) g.message(5, typedTensor(tensor));
  for (const input of graph.inputs) g.message(11, valueInfo(input));
  for (const output of graph.outputs) g.message(12, valueInfo(output));
  return new Writer()
    .int(1, IR_VERSION)
    .string(2, 'pollard')
    .message(7, g)
    .message(8, new Writer().string(1, '').int(2, ONNX_OPSET))
    .finish();
}
