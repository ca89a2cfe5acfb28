"""Every torchvision 0.14 classifier, for models/export.py --torchvision.

NETWORKS and ENTRIES have the shapes of zoo.py's, so export.py exports
them with the same machinery (BN calibration schemes, float32 check,
caching, backend-test layout). An entry is named after its network and is
exported at opset 13, BatchNorm folded; the two over 2 GB keep their
weights in ONNX external data.

torchvision lists 80 classifiers; torch 1.13's exporter fails on the three
swin_v2_* (EXPORT_FAILS), which leaves 77.

Random initialization leaves parts of some networks inert, so a test of
them would compare little more than zeros: ViT's head is zero, ConvNeXt's
layer scale is 1e-6 (its blocks add almost nothing to the residual
stream), and LayerNorm's affine parameters are the identity. tv_build
randomizes those (BatchNorm is randomized by export.py as for the zoo).
"""

import functools

import torch
import torchvision

import zoo

CI_SIZE = zoo.CI_SIZE
EXPORT_FAILS = ("swin_v2_t", "swin_v2_s", "swin_v2_b")

# The input size where it is not CI_SIZE for both CI and full exports:
# AlexNet and VGG end in an adaptive average pool to 6x6 / 7x7 that ONNX
# exports only when the feature map is a multiple of it; ViT, Swin and
# MaxViT have position embeddings or windows fixed to their native size.
_FIXED_SIZE = {"alexnet": 224, "maxvit_t": 224}
_FIXED_PREFIX = ("vgg", "vit_", "swin_")

# (CI size, full size) where the full size is not 224.
_SIZES = {
    "inception_v3": (139, 299),  # 139: 3x3 maps before the global pool
    "efficientnet_b1": (CI_SIZE, 240),
    "efficientnet_b2": (CI_SIZE, 260),
    # At 64 px B3's float32 rounding alone moves its output by 3e-5 of the
    # peak whatever the BN calibration; B4-B7 likewise (see zoo.py).
    "efficientnet_b3": (96, 300),
    "efficientnet_b4": (96, 380),
    "efficientnet_b5": (96, 456),
    "efficientnet_b6": (96, 528),
    "efficientnet_b7": (96, 600),
    "efficientnet_v2_s": (CI_SIZE, 384),
    "efficientnet_v2_m": (96, 480),
    "efficientnet_v2_l": (96, 480),
}

# Too large for export.py's float64 check (a float64 copy takes gigabytes):
# exported unchecked, like the zoo's benchmark-only networks.
_UNCHECKED = ("vit_h_14", "vit_l_16", "vit_l_32", "regnet_y_128gf", "regnet_y_32gf",
              "regnet_x_32gf")
_EXTERNAL = ("vit_h_14", "regnet_y_128gf")  # over protobuf's 2 GB limit


def _names():
    import torchvision.models as tvm
    if hasattr(tvm, "list_models"):
        names = tvm.list_models(module=tvm)
    else:  # torchvision < 0.14: the classification builders
        names = sorted(n for n, f in vars(tvm).items()
                       if callable(f) and n[0].islower() and not n.startswith("get_"))
    return [n for n in names if n not in EXPORT_FAILS]


def _layer_norm_randomize(model, gen):
    for m in model.modules():
        if isinstance(m, torch.nn.LayerNorm) and m.elementwise_affine:
            shape = m.weight.shape
            m.weight.data = torch.empty(shape).uniform_(0.5, 1.5, generator=gen)
            m.bias.data = torch.empty(shape).normal_(0.0, 0.1, generator=gen)


def _layer_scale_randomize(model, gen):
    """ConvNeXt's per-channel block scale (1e-6 at init)."""
    for m in model.modules():
        scale = getattr(m, "layer_scale", None)
        if isinstance(scale, torch.nn.Parameter):
            scale.data = torch.empty(scale.shape).uniform_(0.1, 0.3, generator=gen)


def _zero_linear_randomize(model, gen):
    """Linear layers initialized to zero (ViT's head): a random weight of
    unit gain and a small bias."""
    for m in model.modules():
        if isinstance(m, torch.nn.Linear) and not m.weight.detach().any():
            fan_in = m.weight.shape[1]
            m.weight.data = torch.empty(m.weight.shape).normal_(0.0, fan_in ** -0.5,
                                                                generator=gen)
            if m.bias is not None:
                m.bias.data = torch.empty(m.bias.shape).normal_(0.0, 0.1, generator=gen)


def tv_build(name):
    """torchvision's `name` with random weights (seeded by the caller) and
    the inert parts randomized."""
    kwargs = {}
    if name in ("googlenet", "inception_v3"):
        kwargs = {"aux_logits": False, "init_weights": True}
    model = torchvision.models.get_model(name, weights=None, **kwargs)
    gen = torch.Generator().manual_seed(2)
    _layer_norm_randomize(model, gen)
    _layer_scale_randomize(model, gen)
    _zero_linear_randomize(model, gen)
    return model


def _has_bn(name):
    return not name.startswith(("vit_", "swin_"))


def _network(name):
    ci, full = _SIZES.get(name, (CI_SIZE, 224))
    if name in _FIXED_SIZE:
        ci = full = _FIXED_SIZE[name]
    elif name.startswith(_FIXED_PREFIX):
        ci = full = 224
    return zoo.Network(functools.partial(tv_build, name), None, ci, full, _has_bn(name),
                       name in _UNCHECKED)


NETWORKS = {n: _network(n) for n in _names()}
ENTRIES = {n: zoo.Entry(n, 13, False, False, n in _EXTERNAL, False) for n in NETWORKS}


def entry_names(include_benchmark=False):
    del include_benchmark  # every classifier is in the default list
    return list(ENTRIES)
