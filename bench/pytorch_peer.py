#!/usr/bin/python3
"""PyTorch (CPU, or CUDA beside a GPU backend) peer for bench/training-speed.bench.ts: Pollard's four built-in architectures
rebuilt layer for layer, trained with the same recipe, so Pollard's training speed can be stated
as a ratio to PyTorch's, measured in the same run on the same machine.

PyTorch is only a yardstick here: nothing in Pollard imports or needs this script.

Each model follows src/main/engine/model/architectures/<name>.ts for the input shapes the bench
uses (lenet and vgg-small on 28x28x1, resnet20 and mobilenet-small on 32x32x3): the same
convolutions (kernel, stride, padding, bias or not), batch normalisation, pooling, dense sizes
and activations. Two unavoidable differences, neither of which changes shapes, parameters or
MACs: PyTorch is NCHW (tfjs NHWC), and a stride-2 'same' convolution in tfjs pads
asymmetrically (bottom/right only) where PyTorch pads both sides by one; the output sizes are
equal. Keras BatchNormalization (momentum 0.99, epsilon 1e-3) maps to momentum 0.01, eps 1e-3.

The parameter count printed is Keras' countParams(): trainable parameters plus the BN moving
mean and variance (PyTorch keeps those as buffers), so it must equal Pollard's own count.

  /usr/bin/python3 bench/pytorch_peer.py --arch resnet20 --threads 2 [--steps N | --seconds S]
  /usr/bin/python3 bench/pytorch_peer.py --arch resnet20 --device cuda   # beside a GPU backend
  /usr/bin/python3 bench/pytorch_peer.py --params-only      # every architecture's count, JSON lines

Output: one JSON line {"arch", "threads", "samplesPerSecond", "params", "steps", "seconds", "device"}.
"""

import argparse
import json
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

ARCHITECTURES = ["lenet", "vgg-small", "resnet20", "mobilenet-small"]
INPUT_SHAPES = {  # (channels, height, width), as the bench feeds Pollard
    "lenet": (1, 28, 28),
    "vgg-small": (1, 28, 28),
    "resnet20": (3, 32, 32),
    "mobilenet-small": (3, 32, 32),
}
CLASSES = 10
BATCH = 64


def bn(channels):
    # Keras BatchNormalization defaults: momentum 0.99 (PyTorch counts the other way), eps 1e-3.
    return nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01)


class LeNet(nn.Module):
    """lenet.ts: conv 6@5x5 same + ReLU, max-pool 2; conv 16@5x5 valid + ReLU, max-pool 2;
    flatten; dense 120 ReLU; dense 84 ReLU; dense classes (softmax folded into the loss)."""

    def __init__(self, in_shape, classes):
        super().__init__()
        c, h, w = in_shape
        assert h >= 10 and w >= 10, "the peer only mirrors lenet's ordinary (>= 10x10) layout"
        self.conv1 = nn.Conv2d(c, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5, padding=0)
        flat = 16 * ((h // 2 - 4) // 2) * ((w // 2 - 4) // 2)
        self.fc1 = nn.Linear(flat, 120)
        self.fc2 = nn.Linear(120, 84)
        self.logits = nn.Linear(84, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.logits(x)


class VggSmall(nn.Module):
    """vgg-small.ts: three blocks of [conv 3x3 same, no bias -> BN -> ReLU] x2 then max-pool 2
    (widths 32, 64, 128); flatten when <= 16 positions remain (28x28: 3x3), else GAP;
    dense 128 ReLU, dropout 0.5, dense classes."""

    def __init__(self, in_shape, classes):
        super().__init__()
        c, h, w = in_shape
        layers = []
        for filters in (32, 64, 128):
            for _ in range(2):
                layers += [nn.Conv2d(c, filters, 3, padding=1, bias=False), bn(filters), nn.ReLU()]
                c = filters
            assert h >= 2 and w >= 2
            layers.append(nn.MaxPool2d(2))
            h, w = h // 2, w // 2
        self.features = nn.Sequential(*layers)
        self.flatten = h * w <= 16
        self.fc1 = nn.Linear(c * h * w if self.flatten else c, 128)
        self.dropout = nn.Dropout(0.5)
        self.logits = nn.Linear(128, classes)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(x, 1) if self.flatten else x.mean(dim=(2, 3))
        return self.logits(self.dropout(F.relu(self.fc1(x))))


class BasicBlock(nn.Module):
    """resnet20.ts: conv 3x3 (stride s) -> BN -> ReLU -> conv 3x3 -> BN -> Add(shortcut) -> ReLU,
    projection shortcut (1x1 conv stride s, no bias, -> BN) where the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = bn(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = bn(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), bn(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.shortcut is None else self.shortcut(x)))


class ResNet20(nn.Module):
    """resnet20.ts: conv 3x3 16 (no bias) -> BN -> ReLU; stages 16, 32, 64 of 3 basic blocks
    (stride 2 in the first block of stages 2 and 3); GAP; dense classes."""

    def __init__(self, in_shape, classes):
        super().__init__()
        c = in_shape[0]
        self.conv1 = nn.Conv2d(c, 16, 3, padding=1, bias=False)
        self.bn1 = bn(16)
        blocks = []
        channels = 16
        for s, filters in enumerate((16, 32, 64)):
            for b in range(3):
                blocks.append(BasicBlock(channels, filters, 2 if s > 0 and b == 0 else 1))
                channels = filters
        self.blocks = nn.Sequential(*blocks)
        self.logits = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.blocks(x)
        return self.logits(x.mean(dim=(2, 3)))


class MobilenetSmall(nn.Module):
    """mobilenet-small.ts: stem conv 3x3 16 (stride 2 only for >= 64 px sides, no bias) -> BN ->
    ReLU6; five blocks [depthwise 3x3 (stride s) -> BN -> ReLU6 -> pointwise 1x1 -> BN -> ReLU6]
    of widths 32, 64, 64, 128, 128 (stride 2 in blocks 2 and 4 while the side is >= 4);
    SeparableConv2D 3x3 256 (depthwise then pointwise, no bias) -> BN -> ReLU6; GAP; dense."""

    BLOCKS = [(32, 1), (64, 2), (64, 1), (128, 2), (128, 1)]

    def __init__(self, in_shape, classes):
        super().__init__()
        c, h, w = in_shape
        stem_stride = 2 if min(h, w) >= 64 else 1
        layers = [nn.Conv2d(c, 16, 3, stride=stem_stride, padding=1, bias=False), bn(16), nn.ReLU6()]
        c = 16
        h, w = -(-h // stem_stride), -(-w // stem_stride)
        for filters, wanted in self.BLOCKS:
            stride = 2 if wanted == 2 and min(h, w) >= 4 else 1
            layers += [
                nn.Conv2d(c, c, 3, stride=stride, padding=1, groups=c, bias=False),
                bn(c),
                nn.ReLU6(),
                nn.Conv2d(c, filters, 1, bias=False),
                bn(filters),
                nn.ReLU6(),
            ]
            c = filters
            h, w = -(-h // stride), -(-w // stride)
        layers += [
            nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False),  # sep_conv, depthwise part
            nn.Conv2d(c, 256, 1, bias=False),  # sep_conv, pointwise part
            bn(256),
            nn.ReLU6(),
        ]
        self.features = nn.Sequential(*layers)
        self.logits = nn.Linear(256, classes)

    def forward(self, x):
        return self.logits(self.features(x).mean(dim=(2, 3)))


BUILDERS = {"lenet": LeNet, "vgg-small": VggSmall, "resnet20": ResNet20, "mobilenet-small": MobilenetSmall}


def build(arch):
    return BUILDERS[arch](INPUT_SHAPES[arch], CLASSES)


def keras_param_count(model):
    """Keras countParams(): parameters plus BN moving mean and variance."""
    params = sum(p.numel() for p in model.parameters())
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            params += module.running_mean.numel() + module.running_var.numel()
    return params


def measure(arch, threads, steps, seconds, warmup, seed, device="cpu"):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = build(arch).to(device)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    shape = INPUT_SHAPES[arch]
    # A small pool of seeded random batches, cycled (as Pollard cycles its sample data).
    pool = [
        (torch.rand(BATCH, *shape).to(device), torch.randint(0, CLASSES, (BATCH,)).to(device)) for _ in range(4)
    ]

    def step(i):
        x, y = pool[i % len(pool)]
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()  # one read per step, like Pollard's loop (on CUDA it also waits for the step)

    for i in range(warmup):
        step(i)
    if steps is None:
        # Calibrate: time at least two steady steps (and ~a tenth of the target), then take as
        # many as fill `seconds`.
        start = time.perf_counter()
        calibrated = 0
        while calibrated < 2 or time.perf_counter() - start < seconds / 10:
            step(calibrated)
            calibrated += 1
        per_step = (time.perf_counter() - start) / calibrated
        steps = max(2, min(100_000, round(seconds / max(per_step, 1e-6))))
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    elapsed = time.perf_counter() - start
    return {
        "arch": arch,
        "threads": threads,
        "samplesPerSecond": steps * BATCH / elapsed,
        "params": keras_param_count(model),
        "steps": steps,
        "seconds": elapsed,
        "torch": torch.__version__,
        "device": f"cuda: {torch.cuda.get_device_name()}" if device == "cuda" else f"cpu: {threads} thread(s)",
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", choices=ARCHITECTURES)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, help="timed steps (default: as many as fill --seconds)")
    parser.add_argument("--seconds", type=float, default=10.0, help="target length of the timed part")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="cuda: beside Pollard's GPU backends")
    parser.add_argument("--params-only", action="store_true", help="print parameter counts and exit")
    args = parser.parse_args()
    if args.params_only:
        for arch in [args.arch] if args.arch else ARCHITECTURES:
            print(json.dumps({"arch": arch, "params": keras_param_count(build(arch))}))
        return 0
    if args.arch is None:
        parser.error("--arch is required unless --params-only")
    if args.threads < 1 or (args.steps is not None and args.steps < 1):
        parser.error("--threads and --steps must be at least 1")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: this PyTorch sees no CUDA device")
    print(json.dumps(measure(args.arch, args.threads, args.steps, args.seconds, args.warmup, args.seed, args.device)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
