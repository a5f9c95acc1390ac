"""An independent forward pass of a Keras .h5/.keras file in numpy, for the corpus test.

Reads the config and weights with h5py (never TensorFlow.js, never Pollard's readers) and
computes the layers Keras defines them, in float64. Covers the layer types of the Keras models
in the corpus; anything else raises NotImplementedError.

usage: keras_reference.py MODEL_FILE INPUTS_JSON   (prints the outputs as one JSON list)
"""
import io
import json
import sys
import zipfile

import h5py
import numpy as np


def text(value):
    return value.decode('utf8') if isinstance(value, bytes) else str(value)


# ---------------------------------------------------------------- config and weights


def unwrap(value):
    """Keras 3 serialization to plain values: DTypePolicy -> name, __tensor__ -> number."""
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get('class_name') == '__tensor__':
        return float(np.asarray(value['config']['value']).reshape(-1)[0])
    if value.get('class_name') in ('DTypePolicy', 'FloatDTypePolicy'):
        return value['config']['name']
    return {k: unwrap(v) for k, v in value.items() if k not in ('module', 'registered_name', 'build_config')}


def keras3_nodes(nodes):
    out = []
    for node in nodes:
        refs = []

        def collect(arg):
            if isinstance(arg, list):
                for a in arg:
                    collect(a)
            elif isinstance(arg, dict) and arg.get('class_name') == '__keras_tensor__':
                history = arg['config']['keras_history']
                refs.append([history[0], history[1], history[2], {}])
            else:
                raise NotImplementedError('non-tensor argument')

        collect(node['args'] if isinstance(node, dict) else node)
        out.append(refs)
    return out


class H5Weights:
    """Keras 2 layout: model_weights/<layer> with weight_names."""

    def __init__(self, group):
        self.group = group

    def layer(self, name, nested=False):
        if name not in self.group:
            return {}
        g = self.group[name]
        names = [text(n) for n in g.attrs['weight_names']]
        if nested:
            # weights of a nested model: '<inner layer>/<kind>:0'
            by_inner = {}
            for n in names:
                inner, kind = n.split('/')[0], n.split('/')[-1].split(':')[0]
                by_inner.setdefault(inner, {})[kind] = np.asarray(g[n], dtype=np.float64)
            return by_inner
        return {n.split('/')[-1].split(':')[0]: np.asarray(g[n], dtype=np.float64) for n in names}


KERAS3_KINDS = {
    'Dense': ['kernel', 'bias'],
    'Conv2D': ['kernel', 'bias'],
    'BatchNormalization': None,
    'LSTM': ['kernel', 'recurrent_kernel', 'bias'],
}


class Keras3Weights:
    """Keras 3 layout: layers/<layer>/vars/<i> (recurrent layers: layers/<layer>/cell/vars)."""

    def __init__(self, root):
        self.root = root

    def layer(self, name, config):
        base = 'layers/' + name
        path = base + '/cell/vars' if base + '/cell/vars' in self.root else base + '/vars'
        if path not in self.root:
            return {}
        values = [np.asarray(self.root[path][str(i)], dtype=np.float64) for i in range(len(self.root[path]))]
        if not values:
            return {}
        cls = config['class_name']
        if cls == 'BatchNormalization':
            kinds = (['gamma'] if config['config'].get('scale', True) else []) + (
                ['beta'] if config['config'].get('center', True) else []) + ['moving_mean', 'moving_variance']
        else:
            kinds = KERAS3_KINDS[cls]
        return dict(zip(kinds, values))


# ---------------------------------------------------------------- layers


def activation(name, x):
    if name in (None, 'linear'):
        return x
    if name == 'relu':
        return np.maximum(x, 0)
    if name == 'relu6':
        return np.clip(x, 0, 6)
    if name == 'sigmoid':
        return 1 / (1 + np.exp(-x))
    if name == 'tanh':
        return np.tanh(x)
    if name == 'softmax':
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise NotImplementedError('activation ' + name)


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def same_padding(size, k, s):
    total = max((int(np.ceil(size / s)) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def windows(x, k, s, padding, fill=0.0):
    """(N, Ho, Wo, C, kh, kw) windows of an NHWC input."""
    kh, kw = k
    if padding == 'same':
        (t, b), (l, r) = same_padding(x.shape[1], kh, s[0]), same_padding(x.shape[2], kw, s[1])
        x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=fill)
    view = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))
    return view[:, ::s[0], ::s[1]]


def check_conv(c):
    if pair(c.get('dilation_rate', 1)) != (1, 1) or c.get('data_format', 'channels_last') != 'channels_last':
        raise NotImplementedError('dilation or channels_first')


def conv2d(c, w, x):
    check_conv(c)
    k = w['kernel']
    y = np.einsum('nhwcij,ijcf->nhwf', windows(x, k.shape[:2], pair(c['strides']), c['padding']), k)
    return activation(c.get('activation'), y + w['bias'] if 'bias' in w else y)


def depthwise(c, kernel, x):
    check_conv(c)
    y = np.einsum('nhwcij,ijcm->nhwcm', windows(x, kernel.shape[:2], pair(c['strides']), c['padding']), kernel)
    return y.reshape(y.shape[0], y.shape[1], y.shape[2], -1)


def pool(c, x, mode):
    k, s = pair(c['pool_size']), pair(c.get('strides') or c['pool_size'])
    if mode == 'max':
        return windows(x, k, s, c['padding'], fill=-np.inf).max(axis=(4, 5))
    sums = windows(x, k, s, c['padding']).sum(axis=(4, 5))
    counts = windows(np.ones_like(x[:1, :, :, :1]), k, s, c['padding']).sum(axis=(4, 5))
    return sums / counts  # TensorFlow leaves padding out of the average


def batch_norm(c, w, x):
    axis = c.get('axis', -1)
    axis = axis[0] if isinstance(axis, list) else axis
    if axis not in (-1, x.ndim - 1):
        raise NotImplementedError('batch norm axis')
    y = (x - w['moving_mean']) / np.sqrt(w['moving_variance'] + c.get('epsilon', 1e-3))
    return y * w.get('gamma', 1.0) + w.get('beta', 0.0)


def lstm(c, w, x, mask):
    units = c['units']
    h = np.zeros((x.shape[0], units))
    state = np.zeros((x.shape[0], units))
    act, rec = c.get('activation', 'tanh'), c.get('recurrent_activation', 'sigmoid')
    steps = range(x.shape[1] - 1, -1, -1) if c.get('go_backwards') else range(x.shape[1])
    outputs = []
    for t in steps:
        z = x[:, t] @ w['kernel'] + h @ w['recurrent_kernel'] + w.get('bias', 0.0)
        i, f, g, o = (z[:, n * units:(n + 1) * units] for n in range(4))
        new_c = activation(rec, f) * state + activation(rec, i) * activation(act, g)
        new_h = activation(rec, o) * activation(act, new_c)
        keep = mask[:, t:t + 1] if mask is not None else np.ones((x.shape[0], 1), dtype=bool)
        state, h = np.where(keep, new_c, state), np.where(keep, new_h, h)
        outputs.append(h)
    return np.stack(outputs, axis=1) if c.get('return_sequences') else h


def apply_layer(layer, inputs, weights):
    """inputs: list of (array, mask); weights: a lookup (see TopWeights). Returns (array, mask)."""
    cls, c = layer['class_name'], layer['config']
    x, mask = inputs[0]
    if cls in ('Sequential', 'Model', 'Functional'):
        return run_model(layer, [a for a, _ in inputs], weights.nested(layer)), None
    w = weights(layer)
    if cls == 'InputLayer' or cls in ('Dropout', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout'):
        return x, mask
    if cls == 'Reshape':
        return x.reshape((x.shape[0],) + tuple(c['target_shape'])), None
    if cls == 'Flatten':
        return x.reshape(x.shape[0], -1), None
    if cls == 'Dense':
        y = x @ w['kernel']
        return activation(c.get('activation'), y + w['bias'] if 'bias' in w else y), None
    if cls == 'Activation':
        return activation(c['activation'], x), mask
    if cls == 'ReLU':
        y = np.where(x >= c.get('threshold', 0.0), x, c.get('negative_slope', 0.0) * (x - c.get('threshold', 0.0)))
        return (np.minimum(y, c['max_value']) if c.get('max_value') is not None else y), None
    if cls == 'Conv2D':
        return conv2d(c, w, x), None
    if cls == 'DepthwiseConv2D':
        y = depthwise(c, w['depthwise_kernel'], x)
        return activation(c.get('activation'), y + w['bias'] if 'bias' in w else y), None
    if cls == 'SeparableConv2D':
        y = np.einsum('nhwc,cf->nhwf', depthwise(c, w['depthwise_kernel'], x), w['pointwise_kernel'][0, 0])
        return activation(c.get('activation'), y + w['bias'] if 'bias' in w else y), None
    if cls == 'MaxPooling2D':
        return pool(c, x, 'max'), None
    if cls == 'AveragePooling2D':
        return pool(c, x, 'avg'), None
    if cls == 'GlobalAveragePooling2D':
        return x.mean(axis=(1, 2)), None
    if cls == 'ZeroPadding2D':
        p = c['padding']
        (t, b), (l, r) = (pair(p), pair(p)) if isinstance(p, int) else (pair(p[0]), pair(p[1]))
        return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0))), None
    if cls == 'BatchNormalization':
        return batch_norm(c, w, x), mask
    if cls == 'Add':
        return sum(a for a, _ in inputs), None
    if cls == 'Concatenate':
        return np.concatenate([a for a, _ in inputs], axis=c.get('axis', -1)), None
    if cls == 'Masking':
        return x, np.any(x != c.get('mask_value', 0.0), axis=-1)
    if cls == 'LSTM':
        return lstm(c, w, x, mask), None
    raise NotImplementedError(cls)


def layers_of(model):
    cfg = model['config']
    return cfg if isinstance(cfg, list) else cfg['layers']


def name_of(layer):
    return layer['config'].get('name', layer.get('name'))


def run_model(model, inputs, weights):
    layers = layers_of(model)
    if model['class_name'] == 'Sequential':
        value = (inputs[0], None)
        for layer in layers:
            value = apply_layer(layer, [value], weights)
        return value[0]
    cfg = model['config']
    tensors = {}
    input_refs = cfg['input_layers'] if isinstance(cfg['input_layers'][0], list) else [cfg['input_layers']]
    for ref, x in zip(input_refs, inputs):
        tensors[ref[0]] = (x, None)
    pending = [l for l in layers if name_of(l) not in tensors]
    while pending:
        progressed = False
        for layer in list(pending):
            nodes = layer.get('inbound_nodes', [])
            nodes = keras3_nodes(nodes) if nodes and isinstance(nodes[0], dict) else nodes
            if len(nodes) != 1:
                raise NotImplementedError('shared layers')
            if all(r[0] in tensors for r in nodes[0]):
                tensors[name_of(layer)] = apply_layer(layer, [tensors[r[0]] for r in nodes[0]], weights)
                pending.remove(layer)
                progressed = True
        if not progressed:
            raise ValueError('graph has unresolved inputs')
    output_refs = cfg['output_layers'] if isinstance(cfg['output_layers'][0], list) else [cfg['output_layers']]
    outputs = [tensors[r[0]][0] for r in output_refs]
    return outputs[0] if len(outputs) == 1 else np.concatenate([o.reshape(-1) for o in outputs])


class NestedWeights:
    """Keras 2 keeps a nested model's weights in its outermost layer's group, by leaf layer name."""

    def __init__(self, by_leaf):
        self.by_leaf = by_leaf

    def __call__(self, layer):
        return self.by_leaf.get(name_of(layer), {})

    def nested(self, layer):
        return self


class TopWeights:
    def __init__(self, source, keras3):
        self.source, self.keras3 = source, keras3

    def __call__(self, layer):
        return self.source.layer(name_of(layer), layer) if self.keras3 else self.source.layer(name_of(layer))

    def nested(self, layer):
        if self.keras3:
            raise NotImplementedError('nested Keras 3 models')
        return NestedWeights(self.source.layer(name_of(layer), nested=True))


def main():
    model_file, inputs_file = sys.argv[1], sys.argv[2]
    inputs = [np.asarray(i['values'], dtype=np.float64).reshape(i['shape']) for i in json.load(open(inputs_file))]
    if model_file.endswith('.keras'):
        archive = zipfile.ZipFile(model_file)
        config = unwrap(json.loads(archive.read('config.json')))
        for layer in layers_of(config):
            if 'inbound_nodes' in layer:
                layer['inbound_nodes'] = keras3_nodes(layer['inbound_nodes'])
            if layer['class_name'] == 'InputLayer' and 'batch_shape' in layer['config']:
                layer['config']['batch_input_shape'] = layer['config']['batch_shape']
        weights = TopWeights(Keras3Weights(h5py.File(io.BytesIO(archive.read('model.weights.h5')), 'r')), True)
    else:
        f = h5py.File(model_file, 'r')
        config = json.loads(text(f.attrs['model_config']))
        weights = TopWeights(H5Weights(f['model_weights']), False)
    output = run_model(config, inputs, weights)
    print(json.dumps(np.asarray(output, dtype=np.float64).reshape(-1).tolist()))


if __name__ == '__main__':
    main()
