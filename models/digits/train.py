#!/usr/bin/python3
"""Trains the bundled digit classifier and writes everything in models/digits/.

    /usr/bin/python3 models/digits/train.py [--out DIR] [--epochs N] [--seed S]

Data: scikit-learn's digits (sklearn.datasets.load_digits, shipped inside
python3-sklearn, no download): 1797 8x8 images with values 0..16, split
80/20 (stratified, random_state 0) into 1437 training and 360 test images.
Each image is first turned into the 8-bit dark-on-white picture a user would
have (preprocess.digits_to_pixels), then into the network input by
preprocess.pixels_to_tensor, which is onnxi's own image pipeline, so a PNG
given to `onnxi run` reaches the network as the same tensor. Training also
sees each image as other renderings a user might have (blocky 32x32, digit
on a wider white canvas) and shifted by up to 2 of 32 pixels; the test split
is scored on the 8x8 originals.

Writes (to --out, default this directory):
    digits.onnx         opset 13, eval mode (BatchNorm folded into Conv by the
                        exporter), dynamic batch, input "input" N x 1 x 32 x 32,
                        output "output" N x 10 logits, onnxi.* metadata_props
    test_split.npz      the held-out split: pixels (360, 8, 8) uint8, labels,
                        PyTorch's logits and predictions, indices into load_digits
    samples/digit_K.png the first test image of each class K, 8x8 grayscale

Deterministic: fixed seeds, one thread, torch.use_deterministic_algorithms,
so running it again reproduces the same weights and accuracy on the same
machine and PyTorch build.
"""

import argparse
import os
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import preprocess  # noqa: E402  (the shared numpy pipeline, next to this file)

OPSET = 13


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 conv + BN, identity or 1x1 projection."""

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
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class DigitsNet(nn.Module):
    """A small ResNet for 1 x 32 x 32 inputs: stem, three stages (32, 16, 8
    pixels), global average pooling and a linear classifier."""

    def __init__(self, widths=(16, 32, 64), classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        self.layer1 = BasicBlock(widths[0], widths[0], 1)
        self.layer2 = BasicBlock(widths[0], widths[1], 2)
        self.layer3 = BasicBlock(widths[1], widths[2], 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[2], classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.stem(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


def determinism_setup(seed):
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


def data_load():
    """Pixels (dark on white, uint8), labels and load_digits indices of both splits."""
    d = load_digits()
    pixels = preprocess.digits_to_pixels(d.images)
    idx = np.arange(len(d.target))
    tr, te = train_test_split(idx, test_size=0.2, stratify=d.target, random_state=0)
    te = np.sort(te)
    tr = np.sort(tr)
    return (pixels[tr], d.target[tr].astype(np.int64), tr), (pixels[te], d.target[te].astype(np.int64), te)


def pipeline_check(pixels):
    """preprocess.pixels_to_tensor must be torch's half-pixel bilinear resize."""
    x = torch.from_numpy(255.0 - pixels.astype(np.float32))[:, None] / 255.0
    want = (F.interpolate(x, size=(preprocess.SIZE, preprocess.SIZE), mode="bilinear",
                          align_corners=False) - preprocess.MEAN) / preprocess.STD
    diff = float((want - torch.from_numpy(preprocess.pixels_to_tensor(pixels))).abs().max())
    if diff > 1e-5:
        raise SystemExit(f"preprocess.pixels_to_tensor differs from F.interpolate by {diff}")


def renderings(pixels):
    """The same digits as other images a user might have, each then put
    through the onnxi pipeline: the 8x8 original, blocky 32x32 (nearest
    enlarged, sharp edges), and the digit on a wider white canvas (10x10 and
    12x12, so it fills 80% or 67% of the frame). Training on all of them
    keeps the model from relying on the 8x8 bilinear blur alone."""
    n = len(pixels)
    blocky = np.repeat(np.repeat(pixels, 4, axis=1), 4, axis=2)
    out = {"8x8": pixels, "blocky 32x32": blocky}
    for side in (10, 12):
        canvas = np.full((n, side, side), 255, dtype=np.uint8)
        m = (side - 8) // 2
        canvas[:, m:m + 8, m:m + 8] = pixels
        out[f"{side}x{side} margin"] = canvas
    return {k: torch.from_numpy(preprocess.pixels_to_tensor(v)) for k, v in out.items()}


def shift_batch(x, gen, background, max_shift):
    """Random translation by up to max_shift pixels (of 32), filled with background."""
    n, _, h, w = x.shape
    m = max_shift
    padded = F.pad(x, (m, m, m, m), value=background)
    shifts = torch.randint(-m, m + 1, (n, 2), generator=gen)
    out = torch.empty_like(x)
    for dy in range(-m, m + 1):
        for dx in range(-m, m + 1):
            sel = (shifts[:, 0] == dy) & (shifts[:, 1] == dx)
            out[sel] = padded[sel, :, m - dy:m - dy + h, m - dx:m - dx + w]
    return out


def train(model, xs, y, epochs, seed, batch=32, lr=0.05):
    """xs: (renderings, N, 1, H, W); each step takes a random rendering of each image."""
    gen = torch.Generator().manual_seed(seed + 1)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps = epochs * ((len(y) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps)
    background = (0.0 - preprocess.MEAN) / preprocess.STD
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(y), generator=gen)
        total = 0.0
        for k in range(0, len(y), batch):
            sel = order[k:k + batch]
            pick = torch.randint(0, len(xs), (len(sel),), generator=gen)
            xb = shift_batch(xs[pick, sel], gen, background, 2)
            loss = F.cross_entropy(model(xb), y[sel])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss) * len(sel)
        if (epoch + 1) % 5 == 0 or epoch == 0:
            print(f"epoch {epoch + 1:3d}  loss {total / len(y):.4f}", flush=True)


def model_export(model, path):
    model.eval()
    dummy = torch.zeros(1, 1, preprocess.SIZE, preprocess.SIZE)
    torch.onnx.export(model, dummy, path, opset_version=OPSET, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
                      do_constant_folding=True)
    m = onnx.load(path)
    m.doc_string = ("Digit classifier (0-9) trained on scikit-learn's digits with onnxi's "
                    "models/digits/train.py. Input: dark-on-white digit image, see metadata.")
    for k, v in preprocess.metadata().items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(m)
    onnx.save(m, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    determinism_setup(args.seed)
    (p_tr, y_tr, _), (p_te, y_te, i_te) = data_load()
    pipeline_check(p_te)
    r_tr, r_te = renderings(p_tr), renderings(p_te)
    x_tr, x_te = r_tr["8x8"], r_te["8x8"]
    raw = (x_tr * preprocess.STD + preprocess.MEAN)
    print(f"train {len(y_tr)}  test {len(y_te)}  pixel mean {float(raw.mean()):.4f} "
          f"std {float(raw.std()):.4f} (preprocess.py: {preprocess.MEAN}, {preprocess.STD})")

    model = DigitsNet()
    print(f"parameters: {sum(p.numel() for p in model.parameters())}")
    t0 = time.time()
    train(model, torch.stack(list(r_tr.values())), torch.from_numpy(y_tr), args.epochs, args.seed)
    seconds = time.time() - t0
    model.eval()
    with torch.no_grad():
        logits = model(x_te).numpy().astype(np.float32)
        train_acc = float((model(x_tr).argmax(1).numpy() == y_tr).mean())
        other = {k: float((model(v).argmax(1).numpy() == y_te).mean()) for k, v in r_te.items()}
    pred = logits.argmax(1)
    acc = float((pred == y_te).mean())
    print(f"training time {seconds:.1f} s  train accuracy {train_acc:.4f}  "
          f"test accuracy {acc:.4f} ({int((pred == y_te).sum())}/{len(y_te)})")
    print("test accuracy by rendering: " + ", ".join(f"{k} {v:.4f}" for k, v in other.items()))

    os.makedirs(os.path.join(args.out, "samples"), exist_ok=True)
    onnx_path = os.path.join(args.out, "digits.onnx")
    model_export(model, onnx_path)
    np.savez_compressed(os.path.join(args.out, "test_split.npz"), pixels=p_te, labels=y_te,
                        logits=logits, predictions=pred.astype(np.int64), indices=i_te.astype(np.int64))
    for digit in range(10):
        first = int(np.flatnonzero(y_te == digit)[0])
        preprocess.png_write(os.path.join(args.out, "samples", f"digit_{digit}.png"), p_te[first])
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes), test_split.npz, samples/")


if __name__ == "__main__":
    main()
