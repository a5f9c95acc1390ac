/**
 * Elementwise ONNX ops as standard Keras layers, so an imported model saves, reloads and exports
 * (TF.js, Keras .h5, ONNX) without custom layers:
 *  - HardSigmoid(α, β) = min(max(α·x + β, 0), 1): Activation('hardSigmoid') when α = 0.2,
 *    β = 0.5 (TF.js's fixed one), else Rescaling(α, β) → ReLU(max 1). PyTorch's Hardsigmoid
 *    exports α = 1/6.
 *  - HardSwish = x · HardSigmoid(1/6, 0.5)(x): Multiply of x and that gate (opset 14's op; opset
 *    13 exports it as HardSigmoid then Mul, which becomes the same layers).
 *  - Add, Sub, Mul, Div with a scalar constant: Rescaling(scale, offset).
 *  - Add and Mul of two layer outputs of the same shape, or of a [N, C, 1, 1] gate and a
 *    [N, C, H, W] map (squeeze-excite): Add / Multiply, which broadcast the gate as ONNX does.
 */
import { tfl } from '../../tf';
import type { Sym, Value } from './fold';

/** A Keras layer name from an ONNX node (its name, else op type and output). */
export function layerName(node: { name: string; opType: string; outputs: string[] }): string {
  const cleaned = node.name.replace(/^\//, '').replace(/[^A-Za-z0-9_.-]/g, '_');
  return cleaned === ''
    ? `${node.opType.toLowerCase()}_${node.outputs[0] ?? ''}`.replace(/[^A-Za-z0-9_.-]/g, '_')
    : cleaned;
}

function apply(layer: tfl.layers.Layer, input: Sym | Sym[]): Sym {
  return layer.apply(input) as Sym;
}

export function hardSigmoid(x: Sym, alpha: number, beta: number, name: string): Sym {
  if (Math.abs(alpha - 0.2) < 1e-7 && Math.abs(beta - 0.5) < 1e-7) {
    return apply(tfl.layers.activation({ activation: 'hardSigmoid', name }), x);
  }
  const scaled = apply(tfl.layers.rescaling({ scale: alpha, offset: beta, name: `${name}_scale` }), x);
  return apply(tfl.layers.reLU({ maxValue: 1, name }), scaled);
}

export function hardSwish(x: Sym, name: string): Sym {
  const gate = hardSigmoid(x, 1 / 6, 0.5, `${name}_gate`);
  return apply(tfl.layers.multiply({ name }), [x, gate]);
}

/** The scalar of a one-element constant, else undefined. */
export function scalarOf(v: Value | undefined): number | undefined {
  if (v?.kind === 'const' && v.data.length === 1) return v.data[0];
  if (v?.kind === 'ints' && v.data.length === 1) return v.data[0];
  return undefined;
}

/**
 * `x op c` (or `c op x` when `constantFirst`) as Rescaling's x·scale + offset; undefined for
 * c / x, which is not affine.
 */
export function affineOf(
  op: string,
  c: number,
  constantFirst: boolean,
): { scale: number; offset: number } | undefined {
  switch (op) {
    case 'Add':
      return { scale: 1, offset: c };
    case 'Mul':
      return { scale: c, offset: 0 };
    case 'Sub':
      return constantFirst ? { scale: -1, offset: c } : { scale: 1, offset: -c };
    case 'Div':
      return constantFirst || c === 0 ? undefined : { scale: 1 / c, offset: 0 };
    default:
      return undefined;
  }
}

/**
 * Why two layer outputs cannot go into a Keras Add/Multiply, or undefined when they can: equal
 * shapes, or one of them [N, 1, 1, C] against [N, H, W, C].
 */
export function broadcastProblem(a: Sym, b: Sym): string | undefined {
  const sa = a.shape.slice(1);
  const sb = b.shape.slice(1);
  const same = sa.length === sb.length && sa.every((d, i) => d === sb[i]);
  if (same) return undefined;
  const gate = (g: typeof sa, m: typeof sa): boolean =>
    g.length === 3 && m.length === 3 && g[0] === 1 && g[1] === 1 && g[2] === m[2];
  if (gate(sa, sb) || gate(sb, sa)) return undefined;
  const nchw = (s: typeof sa): string =>
    `[N, ${(s.length === 3 ? [s[2], s[0], s[1]] : s).map((d) => d ?? '?').join(', ')}]`;
  return `shapes ${nchw(sa)} and ${nchw(sb)}; only equal shapes or a [N, C, 1, 1] gate times [N, C, H, W] are supported`;
}
