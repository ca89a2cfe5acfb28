"""ResNet layouts torchvision 0.14 does not build.

One configurable ResNet covers the variants; each knob is a layout from the
literature:

- stride_on="1x1": the original ResNet (He et al. 2015) downsamples on the
  first 1x1 of the bottleneck. torchvision's ResNet is "ResNet-B" ("v1.5"):
  the stride sits on the 3x3 (stride_on="3x3").
- deep_stem: "ResNet-C" (He et al. 2019, Bag of Tricks) replaces the 7x7
  stem with three 3x3 convolutions (32, 32, 64 channels; the first has
  stride 2).
- avg_down: "ResNet-D" (same paper) moves the shortcut's downsampling to a
  2x2 stride-2 average pool before a stride-1 1x1 convolution.
- groups, width_per_group: ResNeXt cardinality (Xie et al. 2017).
- se: a Squeeze-and-Excitation gate on the residual branch (senet.py).

GroupedBasicBlock is the two-layer ResNeXt block for 18/34-layer depths: a
grouped 3x3 (cardinality groups of width_per_group channels each) then a
dense 3x3 back to the block's width.
"""

from torch import nn

from layers import Classifier, SqueezeExcite, conv_bn


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride, cfg):
        super().__init__()
        width = planes * cfg["width_per_group"] // 64 * cfg["groups"]
        s1, s3 = (stride, 1) if cfg["stride_on"] == "1x1" else (1, stride)
        cout = planes * self.expansion
        self.conv1 = conv_bn(cin, width, 1, s1)
        self.conv2 = conv_bn(width, width, 3, s3, groups=cfg["groups"])
        self.conv3 = conv_bn(width, cout, 1, act=None)
        self.se = SqueezeExcite(cout) if cfg["se"] else nn.Identity()
        self.shortcut = shortcut_make(cin, cout, stride, cfg["avg_down"])
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        y = self.se(self.conv3(self.conv2(self.conv1(x))))
        return self.relu(y + self.shortcut(x))


class GroupedBasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride, cfg):
        super().__init__()
        width = planes * cfg["width_per_group"] // 64 * cfg["groups"]
        self.conv1 = conv_bn(cin, width, 3, stride, groups=cfg["groups"])
        self.conv2 = conv_bn(width, planes, 3, act=None)
        self.se = SqueezeExcite(planes) if cfg["se"] else nn.Identity()
        self.shortcut = shortcut_make(cin, planes, stride, cfg["avg_down"])
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        y = self.se(self.conv2(self.conv1(x)))
        return self.relu(y + self.shortcut(x))


def shortcut_make(cin, cout, stride, avg_down):
    """Identity when shapes match, else a projection: a strided 1x1 conv, or
    (ResNet-D) average pooling then a stride-1 1x1 conv."""
    if stride == 1 and cin == cout:
        return nn.Identity()
    if avg_down and stride > 1:
        return nn.Sequential(nn.AvgPool2d(stride, stride), conv_bn(cin, cout, 1, act=None))
    return conv_bn(cin, cout, 1, stride, act=None)


def stem_make(deep):
    """The 7x7 stride-2 stem, or the ResNet-C stack of three 3x3s; then a
    3x3 stride-2 max pool."""
    if deep:
        convs = [conv_bn(3, 32, 3, 2), conv_bn(32, 32, 3), conv_bn(32, 64, 3)]
    else:
        convs = [conv_bn(3, 64, 7, 2)]
    return nn.Sequential(*convs, nn.MaxPool2d(3, 2, 1))


class ResNet(nn.Module):
    def __init__(self, block, depths, num_classes=1000, stride_on="3x3", deep_stem=False,
                 avg_down=False, groups=1, width_per_group=64, se=False):
        super().__init__()
        cfg = {"stride_on": stride_on, "avg_down": avg_down, "groups": groups,
               "width_per_group": width_per_group, "se": se}
        self.stem = stem_make(deep_stem)
        stages, cin = [], 64
        for i, n in enumerate(depths):
            planes = 64 << i
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                stages.append(block(cin, planes, stride, cfg))
                cin = planes * block.expansion
        self.stages = nn.Sequential(*stages)
        self.head = Classifier(cin, num_classes)

    def forward(self, x):
        return self.head(self.stages(self.stem(x)))


def resnet50_v1():
    return ResNet(Bottleneck, [3, 4, 6, 3], stride_on="1x1")


def resnet50_c():
    return ResNet(Bottleneck, [3, 4, 6, 3], deep_stem=True)


def resnet50_d():
    return ResNet(Bottleneck, [3, 4, 6, 3], deep_stem=True, avg_down=True)


def resnext18_32x4d():
    return ResNet(GroupedBasicBlock, [2, 2, 2, 2], groups=32, width_per_group=4)


def resnext34_32x4d():
    return ResNet(GroupedBasicBlock, [3, 4, 6, 3], groups=32, width_per_group=4)
