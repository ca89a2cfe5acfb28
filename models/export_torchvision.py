#!/usr/bin/python3
"""Exports a torchvision classifier with random weights to ONNX, offline.

    /usr/bin/python3 models/export_torchvision.py --model resnet18 --out r18.onnx
        [--opset 13] [--size 224] [--bn-kept] [--dynamic-batch] [--seed 0]
        [--reference DIR]

Weights come from a fixed seed, never from a download. BatchNorm is made
non-trivial (random affine parameters, running statistics calibrated on
random images and then perturbed) so a folding or BN bug shows in the
outputs. --bn-kept keeps BatchNormalization nodes in the graph instead of
letting the exporter fold them into Conv. --reference DIR writes ONNX's
backend-test layout: DIR/model.onnx and DIR/test_data_set_0/{input_0,output_0}.pb
(serialized TensorProto) holding PyTorch's output for a random input.

The functions are meant to be imported by other model scripts:
build_model, export_model, write_reference.
"""

import argparse
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torchvision

INPUT_NAME = "input"
OUTPUT_NAME = "output"


def _bn_layers(model):
    return [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def _bn_affine_randomize(model, gen):
    """Random BN scale and shift, so no BatchNorm is an identity."""
    for m in _bn_layers(model):
        if m.affine:
            n = m.num_features
            m.weight.data = torch.empty(n).uniform_(0.5, 1.5, generator=gen)
            m.bias.data = torch.empty(n).normal_(0.0, 0.1, generator=gen)


def _bn_stats_perturb(model, gen):
    """Running statistics that are not exactly the calibrated ones."""
    for m in _bn_layers(model):
        if m.track_running_stats:
            n = m.num_features
            m.running_mean.mul_(torch.empty(n).uniform_(0.8, 1.2, generator=gen))
            m.running_mean.add_(torch.empty(n).normal_(0.0, 0.05, generator=gen))
            m.running_var.mul_(torch.empty(n).uniform_(0.7, 1.3, generator=gen))


def _bn_calibrate(model, size, gen, batches=2, batch=4):
    """Running stats from random images, so activations keep a sane scale
    through deep networks instead of growing layer after layer."""
    bns = [m for m in _bn_layers(model) if m.track_running_stats]
    if not bns:
        return
    saved = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the calibration batches
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randn(batch, 3, size, size, generator=gen))
    for m, mom in zip(bns, saved):
        m.momentum = mom


def build_model(name, size=224, seed=0):
    """torchvision classifier `name` in eval mode with seeded random weights."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    kwargs = {}
    if name in ("googlenet", "inception_v3"):
        kwargs = {"aux_logits": False, "init_weights": True}
    if hasattr(torchvision.models, "get_model"):
        model = torchvision.models.get_model(name, weights=None, **kwargs)
    else:
        model = getattr(torchvision.models, name)(weights=None, **kwargs)
    _bn_affine_randomize(model, gen)
    _bn_calibrate(model, size, gen)
    _bn_stats_perturb(model, gen)
    model.eval()
    return model


def export_model(model, out, size=224, opset=13, bn_kept=False, dynamic_batch=False):
    """Exports to `out` atomically (a partial file never appears under that name)."""
    x = torch.zeros(1, 3, size, size)
    kwargs = {}
    if bn_kept:
        kwargs = {"training": torch.onnx.TrainingMode.PRESERVE, "do_constant_folding": False}
    if dynamic_batch:
        kwargs["dynamic_axes"] = {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}}
    out_dir = os.path.dirname(os.path.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    tmp = os.path.join(out_dir, ".%s.%d.tmp" % (os.path.basename(out), os.getpid()))
    try:
        # Under no_grad torch 1.13 traces nn.MultiheadAttention (ViT) into
        # its fused fast path, which has no ONNX export.
        mha = any(isinstance(m, torch.nn.MultiheadAttention) for m in model.modules())
        with torch.set_grad_enabled(mha):
            torch.onnx.export(model, x, tmp, opset_version=opset, input_names=[INPUT_NAME],
                              output_names=[OUTPUT_NAME], **kwargs)
        onnx.checker.check_model(tmp)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _tensor_write(path, array, name):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(onnx.numpy_helper.from_array(array, name).SerializeToString())
    os.replace(tmp, path)


def write_reference(model, model_path, ref_dir, inputs, input_names=(INPUT_NAME,),
                    output_names=(OUTPUT_NAME,), set_index=0):
    """ONNX backend-test layout: ref_dir/model.onnx (a copy of model_path unless
    it is already that file) and ref_dir/test_data_set_N/{input,output}_K.pb
    with the outputs PyTorch computes for `inputs` (a list of numpy arrays)."""
    os.makedirs(ref_dir, exist_ok=True)
    dst = os.path.join(ref_dir, "model.onnx")
    if os.path.abspath(model_path) != os.path.abspath(dst):
        with open(model_path, "rb") as f:
            data = f.read()
        with open(dst + ".tmp", "wb") as f:
            f.write(data)
        os.replace(dst + ".tmp", dst)
    with torch.no_grad():
        outs = model(*[torch.from_numpy(a) for a in inputs])
    if isinstance(outs, torch.Tensor):
        outs = (outs,)
    set_dir = os.path.join(ref_dir, "test_data_set_%d" % set_index)
    os.makedirs(set_dir, exist_ok=True)
    for i, (a, n) in enumerate(zip(inputs, input_names)):
        _tensor_write(os.path.join(set_dir, "input_%d.pb" % i), a, n)
    for i, (t, n) in enumerate(zip(outs, output_names)):
        _tensor_write(os.path.join(set_dir, "output_%d.pb" % i), t.numpy(), n)


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help="torchvision classifier name, e.g. resnet50")
    ap.add_argument("--out", help="ONNX file to write")
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--size", type=int, default=224, help="input height and width")
    ap.add_argument("--bn-kept", action="store_true",
                    help="keep BatchNormalization nodes (no folding into Conv)")
    ap.add_argument("--dynamic-batch", action="store_true", help="symbolic batch dimension")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reference", metavar="DIR",
                    help="also write DIR/model.onnx and DIR/test_data_set_0/*.pb")
    args = ap.parse_args(argv)
    if not args.out and not args.reference:
        ap.error("give --out FILE, --reference DIR or both")

    model = build_model(args.model, args.size, args.seed)
    out = args.out or os.path.join(args.reference, "model.onnx")
    export_model(model, out, args.size, args.opset, args.bn_kept, args.dynamic_batch)
    if args.reference:
        rng = np.random.default_rng(args.seed)
        x = rng.standard_normal((1, 3, args.size, args.size), dtype=np.float32)
        write_reference(model, out, args.reference, [x])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
