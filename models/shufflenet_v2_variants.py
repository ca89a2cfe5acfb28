"""ShuffleNet v2 (Ma et al. 2018) 1.0x with the two extensions of the paper's
appendix, which torchvision does not build: an SE gate, and a residual
connection.

Stride-1 unit: split the channels in two halves; the right half runs
1x1 + BN + ReLU, 3x3 depthwise + BN, 1x1 + BN + ReLU; concatenate with the
untouched left half and shuffle with 2 groups. Stride-2 unit: both branches
see the whole input; the left is 3x3 depthwise stride 2 + BN, 1x1 + BN +
ReLU. A 1x1 conv (1024 channels) precedes the global pool.

se=True gates the right branch's output with SE. residual=True adds the right
half's input to its branch in stride-1 units (before the last ReLU, as in
ResNet).
"""

import torch
from torch import nn

from layers import Classifier, SqueezeExcite, channel_shuffle, conv_bn

_WIDTHS_1X = [116, 232, 464]
_STAGE_REPEATS = [4, 8, 4]


class ShuffleV2Unit(nn.Module):
    def __init__(self, cin, cout, stride, se, residual):
        super().__init__()
        self.stride = stride
        self.residual = residual and stride == 1
        half = cout // 2
        branch_in = cin if stride == 2 else half
        self.right = nn.Sequential(
            conv_bn(branch_in, half, 1), conv_bn(half, half, 3, stride, groups=half, act=None),
            conv_bn(half, half, 1, act=None))
        self.relu = nn.ReLU(inplace=True)
        self.se = SqueezeExcite(half) if se else nn.Identity()
        if stride == 2:
            self.left = nn.Sequential(conv_bn(cin, cin, 3, 2, groups=cin, act=None),
                                      conv_bn(cin, half, 1))

    def forward(self, x):
        if self.stride == 2:
            a, b = self.left(x), x
        else:
            a, b = x.chunk(2, dim=1)
        y = self.right(b)
        y = self.relu(y + b) if self.residual else self.relu(y)
        return channel_shuffle(torch.cat([a, self.se(y)], 1), 2)


class ShuffleNetV2(nn.Module):
    def __init__(self, se=False, residual=False, num_classes=1000):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, 24, 3, 2), nn.MaxPool2d(3, 2, 1))
        units, cin = [], 24
        for cout, repeats in zip(_WIDTHS_1X, _STAGE_REPEATS):
            for j in range(repeats):
                units.append(ShuffleV2Unit(cin, cout, 2 if j == 0 else 1, se, residual))
                cin = cout
        self.stages = nn.Sequential(*units)
        self.conv5 = conv_bn(cin, 1024, 1)
        self.head = Classifier(1024, num_classes)

    def forward(self, x):
        return self.head(self.conv5(self.stages(self.stem(x))))


def shufflenet_v2_x1_0_se():
    return ShuffleNetV2(se=True)


def shufflenet_v2_x1_0_res():
    return ShuffleNetV2(residual=True)
