"""Squeeze-and-Excitation networks (Hu et al. 2017).

SE-ResNet-50 and SE-ResNeXt-50 (32x4d) put the SE gate on the bottleneck's
residual branch, after the last 1x1 + BN and before the addition. As in the
paper's released models, SE-ResNet-50 keeps the original ResNet's stride on
the first 1x1 and SE-ResNeXt-50 strides on the grouped 3x3.

SE-Inception is GoogLeNet (Szegedy et al. 2014) with BatchNorm after every
convolution and an SE gate on the concatenated output of each inception
module.
"""

import torch
from torch import nn

from layers import Classifier, SqueezeExcite, conv_bn
from resnet_variants import Bottleneck, ResNet


def se_resnet50():
    return ResNet(Bottleneck, [3, 4, 6, 3], stride_on="1x1", se=True)


def se_resnext50_32x4d():
    return ResNet(Bottleneck, [3, 4, 6, 3], groups=32, width_per_group=4, se=True)


class InceptionSE(nn.Module):
    """Four parallel branches (1x1; 1x1 -> 3x3; 1x1 -> 5x5; 3x3 max pool ->
    1x1) concatenated on channels, then the SE gate."""

    def __init__(self, cin, c1, c3r, c3, c5r, c5, pool_proj):
        super().__init__()
        self.b1 = conv_bn(cin, c1, 1)
        self.b3 = nn.Sequential(conv_bn(cin, c3r, 1), conv_bn(c3r, c3, 3))
        self.b5 = nn.Sequential(conv_bn(cin, c5r, 1), conv_bn(c5r, c5, 5))
        self.bp = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), conv_bn(cin, pool_proj, 1))
        self.se = SqueezeExcite(c1 + c3 + c5 + pool_proj)

    def forward(self, x):
        y = torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], 1)
        return self.se(y)


# GoogLeNet's Table 1: input channels, #1x1, #3x3 reduce, #3x3, #5x5 reduce,
# #5x5, pool proj. None marks a 3x3 stride-2 max pool between modules.
_GOOGLENET_MODULES = [
    (192, 64, 96, 128, 16, 32, 32),      # 3a
    (256, 128, 128, 192, 32, 96, 64),    # 3b
    None,
    (480, 192, 96, 208, 16, 48, 64),     # 4a
    (512, 160, 112, 224, 24, 64, 64),    # 4b
    (512, 128, 128, 256, 24, 64, 64),    # 4c
    (512, 112, 144, 288, 32, 64, 64),    # 4d
    (528, 256, 160, 320, 32, 128, 128),  # 4e
    None,
    (832, 256, 160, 320, 32, 128, 128),  # 5a
    (832, 384, 192, 384, 48, 128, 128),  # 5b
]


class SEInception(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        self.stem = nn.Sequential(
            conv_bn(3, 64, 7, 2), nn.MaxPool2d(3, 2, ceil_mode=True),
            conv_bn(64, 64, 1), conv_bn(64, 192, 3), nn.MaxPool2d(3, 2, ceil_mode=True))
        mods = [InceptionSE(*m) if m else nn.MaxPool2d(3, 2, ceil_mode=True)
                for m in _GOOGLENET_MODULES]
        self.inception = nn.Sequential(*mods)
        self.head = Classifier(1024, num_classes)

    def forward(self, x):
        return self.head(self.inception(self.stem(x)))


def se_inception():
    return SEInception()
