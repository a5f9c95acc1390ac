"""Writes the small ONNX test fixtures (torch.onnx.export, opset 13) and PyTorch's logits.

Run with Debian's python3 (python3-torch): /usr/bin/python3 scripts/make-onnx-fixtures.py [outdir]
Each model is exported in eval mode with a fixed seed, BatchNorm kept as its own node (TrainingMode.PRESERVE,
no constant folding, so parameter counts compare with PyTorch's); beside model.onnx goes model.json with the
parameter count, the input shape (NCHW), the fixed input and PyTorch's logits for it.
"""
import json
import os
import sys

import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + (self.down(x) if self.down is not None else x))


class TinyResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.layer1 = BasicBlock(16, 16, 1)
        self.layer2 = BasicBlock(16, 32, 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.block = nn.Sequential(
            nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        return x + self.block(x) if self.use_res else self.block(x)


class TinyMobileNetV2(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(),
            InvertedResidual(16, 16, 1, 4), InvertedResidual(16, 24, 2, 4), InvertedResidual(24, 24, 1, 4))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(24, 10))

    def forward(self, x):
        return self.head(self.features(x))


class Fire(nn.Module):
    def __init__(self, cin, squeeze, expand):
        super().__init__()
        self.squeeze = nn.Conv2d(cin, squeeze, 1)
        self.e1 = nn.Conv2d(squeeze, expand, 1)
        self.e3 = nn.Conv2d(squeeze, expand, 3, padding=1)

    def forward(self, x):
        s = torch.relu(self.squeeze(x))
        return torch.cat([torch.relu(self.e1(s)), torch.relu(self.e3(s))], 1)


class TinyFireNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1), nn.ReLU(), nn.MaxPool2d(2))
        self.fire1 = Fire(16, 8, 16)
        self.fire2 = Fire(32, 8, 16)
        self.head = nn.Sequential(nn.Conv2d(32, 10, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())

    def forward(self, x):
        return self.head(self.fire2(self.fire1(self.stem(x))))


class PlainNet(nn.Module):
    def __init__(self, use_view):
        super().__init__()
        self.use_view = use_view
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 12, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2))
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(12 * 4 * 4, 10)

    def forward(self, x):
        x = self.features(x)
        x = x.view(x.size(0), -1) if self.use_view else self.flatten(x)
        return self.fc(x)


class SqueezeExcite(nn.Module):
    """torchvision's SqueezeExcitation as MobileNetV3 uses it: the gate multiplies the feature map."""
    def __init__(self, channels, squeeze):
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)

    def forward(self, x):
        s = nn.functional.adaptive_avg_pool2d(x, 1)
        return x * nn.functional.hardsigmoid(self.fc2(torch.relu(self.fc1(s))))


class TinyMobileNetV3(nn.Module):
    """HardSwish, Hardsigmoid (alpha 1/6), squeeze-excite Mul and a depthwise conv with multiplier 2."""
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8), nn.Hardswish())
        self.block = nn.Sequential(
            nn.Conv2d(8, 16, 1, bias=False), nn.BatchNorm2d(16), nn.Hardswish(),
            nn.Conv2d(16, 16, 3, 1, 1, groups=16, bias=False), nn.BatchNorm2d(16), nn.Hardswish(),
            SqueezeExcite(16, 8),
            nn.Conv2d(16, 8, 1, bias=False), nn.BatchNorm2d(8))
        self.multiplier = nn.Sequential(nn.Conv2d(8, 16, 3, 2, 1, groups=8), nn.Hardsigmoid())
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 12), nn.Hardswish(),
                                  nn.Linear(12, 10))

    def forward(self, x):
        x = self.stem(x)
        return self.head(self.multiplier(x + self.block(x)))


class MatMulNet(nn.Module):
    """Linear layers written as matmul + add (tf2onnx's Dense and PyTorch's F.linear on N-D inputs
    export so) and a hand-written h-swish, x * relu6(x + 3) / 6, with scalar Add, Div and Mul."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, 2, 1)
        self.fc1 = nn.Linear(6 * 4 * 4, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = self.conv(x)
        x = x * nn.functional.relu6(x + 3) / 6
        x = torch.flatten(x, 1)
        x = torch.relu(torch.matmul(x, self.fc1.weight.t()) + self.fc1.bias)
        return self.fc2.bias + torch.matmul(x * 0.5, self.fc2.weight.t())


class ResNetStem(nn.Module):
    """torchvision ResNet's stem: 7×7/2 conv, BatchNorm, ReLU, then MaxPool(3, 2, padding 1)."""
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 7, 2, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1))
        self.layer1 = BasicBlock(8, 8, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.layer1(self.stem(x))), 1))


class PoolNet(nn.Module):
    """Padded and ceil-mode pools over odd sizes, on inputs that are negative too (no ReLU)."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, 1, 1)
        self.pools = nn.Sequential(
            nn.MaxPool2d(3, 2, 1),                                   # 17 → 9, as TF's 'same'
            nn.AvgPool2d(3, 2, 1),                                   # 9 → 5, zeros counted: zero padding
            nn.MaxPool2d(2, 2, ceil_mode=True),                      # 5 → 3, as TF's 'same'
            nn.AvgPool2d(2, 2, ceil_mode=True, count_include_pad=False))  # 3 → 2, as TF's 'same'
        self.fc = nn.Linear(6 * 2 * 2, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.pools(self.conv(x)), 1))


def export(name, net, size, out_dir):
    torch.manual_seed(1)
    net.eval()
    # Non-trivial BatchNorm statistics, so folding them is tested.
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    x = torch.rand(2, 3, size, size)
    with torch.no_grad():
        logits = net(x)
    path = os.path.join(out_dir, f'{name}.onnx')
    torch.onnx.export(net, x, path, opset_version=13, training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
    params = sum(p.numel() for p in net.parameters())
    with open(os.path.join(out_dir, f'{name}.json'), 'w') as f:
        json.dump({'parameters': params, 'inputShape': list(x.shape),
                   'input': [round(v, 7) for v in x.flatten().tolist()],
                   'logits': logits.tolist()}, f)
    print(name, params, os.path.getsize(path))


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'onnx')
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    export('resnet', TinyResNet(), 16, out_dir)
    torch.manual_seed(0)
    export('mobilenetv2', TinyMobileNetV2(), 16, out_dir)
    torch.manual_seed(0)
    export('firenet', TinyFireNet(), 16, out_dir)
    torch.manual_seed(0)
    export('plain-view', PlainNet(True), 16, out_dir)
    torch.manual_seed(0)
    export('plain-flatten', PlainNet(False), 16, out_dir)
    torch.manual_seed(0)
    export('mobilenetv3', TinyMobileNetV3(), 16, out_dir)
    torch.manual_seed(0)
    export('matmul', MatMulNet(), 8, out_dir)
    torch.manual_seed(0)
    export('resnet-stem', ResNetStem(), 32, out_dir)
    torch.manual_seed(0)
    export('pools', PoolNet(), 17, out_dir)


if __name__ == '__main__':
    main()
