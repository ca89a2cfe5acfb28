"""The model zoo: every network of docs/networks.md and the export variants.

NETWORKS maps a network name to how to build it: a torchvision model name
("tv") or a builder from this folder, the CI input size (small: the nets are
resolution-agnostic through global pooling), the full size (224 or the
network's own), whether it has BatchNorm (for the "_bn" variant) and whether
it is for benchmarks only.

ENTRIES maps an entry name "<network>_op<opset>[_bn|_dyn|_ext]" to its
export options. Opset 13 for every network; opsets 11 and 17 for a subset
chosen to cover every family's distinctive ops (ENTRIES_OPSETS); "_bn"
keeps BatchNormalization in the graph (every network with BN); "_dyn" has a
symbolic batch dimension; "_ext" stores the weights as ONNX external data.
Entries with benchmark=True are left out of the default (CI) list.
"""

import collections
import functools

import bit
import efficientnet_lite
import mobilenet_v1
import res2net
import resnest
import resnet_variants
import senet
import shufflenet_v1
import shufflenet_v2_variants

CI_SIZE = 64  # the default CI resolution: 2x2 maps after a stride of 32

Network = collections.namedtuple("Network", "builder tv ci_size full_size has_bn benchmark")


def _tv(name, full_size=224, ci_size=CI_SIZE):
    return Network(None, name, ci_size, full_size, True, False)


def _own(builder, full_size=224, has_bn=True, benchmark=False):
    return Network(builder, None, CI_SIZE, full_size, has_bn, benchmark)


def _shufflenet_v1(groups, scale):
    return _own(functools.partial(shufflenet_v1.shufflenet_v1, groups, scale))


NETWORKS = {
    "resnet18": _tv("resnet18"),
    "resnet34": _tv("resnet34"),
    "resnet50": _tv("resnet50"),  # ResNet-B ("v1.5")
    "resnet101": _tv("resnet101"),
    "resnet152": _tv("resnet152"),
    "resnet50_v1": _own(resnet_variants.resnet50_v1),
    "resnet50_c": _own(resnet_variants.resnet50_c),
    "resnet50_d": _own(resnet_variants.resnet50_d),
    "resnext50_32x4d": _tv("resnext50_32x4d"),
    "resnext101_32x8d": _tv("resnext101_32x8d"),
    "resnext18_32x4d": _own(resnet_variants.resnext18_32x4d),
    "resnext34_32x4d": _own(resnet_variants.resnext34_32x4d),
    "se_resnet50": _own(senet.se_resnet50),
    "se_resnext50_32x4d": _own(senet.se_resnext50_32x4d),
    "se_inception": _own(senet.se_inception),
    "shufflenet_v1_g1_x1_0": _shufflenet_v1(1, 1.0),
    "shufflenet_v1_g2_x1_0": _shufflenet_v1(2, 1.0),
    "shufflenet_v1_g3_x1_0": _shufflenet_v1(3, 1.0),
    "shufflenet_v1_g4_x1_0": _shufflenet_v1(4, 1.0),
    "shufflenet_v1_g8_x1_0": _shufflenet_v1(8, 1.0),
    "shufflenet_v1_g3_x0_5": _shufflenet_v1(3, 0.5),
    "shufflenet_v1_g3_x2_0": _shufflenet_v1(3, 2.0),
    "shufflenet_v2_x0_5": _tv("shufflenet_v2_x0_5"),
    "shufflenet_v2_x1_0": _tv("shufflenet_v2_x1_0"),
    "shufflenet_v2_x1_5": _tv("shufflenet_v2_x1_5"),
    "shufflenet_v2_x2_0": _tv("shufflenet_v2_x2_0"),
    "shufflenet_v2_x1_0_se": _own(shufflenet_v2_variants.shufflenet_v2_x1_0_se),
    "shufflenet_v2_x1_0_res": _own(shufflenet_v2_variants.shufflenet_v2_x1_0_res),
    "res2net50_26w_4s": _own(res2net.res2net50_26w_4s),
    "res2next50_se": _own(res2net.res2next50_se),
    "resnest50": _own(resnest.resnest50),
    "regnet_x_400mf": _tv("regnet_x_400mf"),
    "regnet_y_400mf": _tv("regnet_y_400mf"),
    "regnet_y_800mf": _tv("regnet_y_800mf"),
    "regnet_y_1_6gf": _tv("regnet_y_1_6gf"),
    "bit_s_r50x1": _own(bit.bit_s_r50x1, has_bn=False),
    "bit_s_r152x4": _own(bit.bit_s_r152x4, has_bn=False, benchmark=True),
    "mobilenet_v1_1_0_224": _own(functools.partial(mobilenet_v1.mobilenet_v1, 1.0)),
    "mobilenet_v1_0_5_160": _own(functools.partial(mobilenet_v1.mobilenet_v1, 0.5), 160),
    "mobilenet_v2": _tv("mobilenet_v2"),
    "mobilenet_v3_large": _tv("mobilenet_v3_large"),
    "mobilenet_v3_small": _tv("mobilenet_v3_small"),
    "efficientnet_b0": _tv("efficientnet_b0", 224),
    "efficientnet_b1": _tv("efficientnet_b1", 240),
    "efficientnet_b2": _tv("efficientnet_b2", 260),
    "efficientnet_b3": _tv("efficientnet_b3", 300),
    # At 64 pixels the last stages of B4-B7 see 2x2 maps, too few samples
    # for well-conditioned BN statistics (see export.network_build).
    "efficientnet_b4": _tv("efficientnet_b4", 380, 96),
    "efficientnet_b5": _tv("efficientnet_b5", 456, 96),
    "efficientnet_b6": _tv("efficientnet_b6", 528, 96),
    "efficientnet_b7": _tv("efficientnet_b7", 600, 96),
    "efficientnet_v2_s": _tv("efficientnet_v2_s", 384),
    "efficientnet_lite0": _own(efficientnet_lite.efficientnet_lite0),
}

# Networks also exported at opsets 11 and 17: one per family (the lighter
# member), covering the ops whose form changed between those opsets: Split,
# Slice, Squeeze/Unsqueeze (inputs vs attributes), Softmax (axis meaning),
# Clip (min/max inputs), HardSwish/HardSigmoid, ReduceMean, GroupNorm's
# InstanceNormalization.
ENTRIES_OPSETS = [
    "resnet18", "resnext18_32x4d", "se_inception",
    "shufflenet_v1_g3_x1_0", "shufflenet_v2_x1_0", "shufflenet_v2_x1_0_se", "res2net50_26w_4s",
    "resnest50", "regnet_y_400mf", "bit_s_r50x1", "mobilenet_v1_0_5_160", "mobilenet_v2",
    "mobilenet_v3_small", "efficientnet_b0", "efficientnet_lite0",
]
DYNAMIC_BATCH = ["resnet18", "shufflenet_v1_g3_x1_0", "mobilenet_v3_small"]
EXTERNAL_DATA = ["mobilenet_v1_0_5_160", "bit_s_r50x1", "bit_s_r152x4"]

Entry = collections.namedtuple("Entry", "network opset bn_kept dynamic external benchmark")


def _entries():
    entries = collections.OrderedDict()

    def add(net, opset, suffix="", bn_kept=False, dynamic=False, external=False):
        name = "%s_op%d%s" % (net, opset, suffix)
        entries[name] = Entry(net, opset, bn_kept, dynamic, external, NETWORKS[net].benchmark)

    for net, spec in NETWORKS.items():
        if not spec.benchmark:  # those are over 2 GB: external data only
            add(net, 13)
        if spec.has_bn:
            add(net, 13, "_bn", bn_kept=True)
    for net in ENTRIES_OPSETS:
        add(net, 11)
        add(net, 17)
    for net in DYNAMIC_BATCH:
        add(net, 13, "_dyn", dynamic=True)
    for net in EXTERNAL_DATA:
        add(net, 13, "_ext", external=True)
    return entries


ENTRIES = _entries()


def entry_names(include_benchmark=False):
    return [n for n, e in ENTRIES.items() if include_benchmark or not e.benchmark]
