"""ShuffleNet v1 (Zhang et al. 2017).

Unit: 1x1 group conv (to a bottleneck of a quarter of the unit's output) +
BN + ReLU, channel shuffle, 3x3 depthwise conv + BN (no ReLU), 1x1 group
conv + BN. A stride-1 unit adds the input and applies ReLU; a stride-2 unit
concatenates a 3x3 stride-2 average pool of its input, so its branch only
produces (output - input) channels, then applies ReLU. The first 1x1 of
stage 2 is not grouped: its input has only the stem's 24 channels.

Table 1 of the paper fixes the stage widths per group count at 1x; the
"s x" models multiply them by s (the 24-channel stem stays).
"""

import torch
from torch import nn

from layers import Classifier, channel_shuffle, conv_bn

_STAGE_WIDTHS = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}  # stage 2 at 1x
_STAGE_REPEATS = [4, 8, 4]
_STEM = 24


class ShuffleUnit(nn.Module):
    def __init__(self, cin, cout, stride, groups, group_first):
        super().__init__()
        self.stride = stride
        self.groups = groups
        mid = cout // 4
        branch_out = cout - cin if stride == 2 else cout
        self.gconv1 = conv_bn(cin, mid, 1, groups=groups if group_first else 1)
        self.dwconv = conv_bn(mid, mid, 3, stride, groups=mid, act=None)
        self.gconv2 = conv_bn(mid, branch_out, 1, groups=groups, act=None)
        self.pool = nn.AvgPool2d(3, 2, 1) if stride == 2 else None
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        y = self.gconv1(x)
        if self.groups > 1:
            y = channel_shuffle(y, self.groups)
        y = self.gconv2(self.dwconv(y))
        if self.pool is None:
            return self.relu(x + y)
        return self.relu(torch.cat([self.pool(x), y], 1))


class ShuffleNetV1(nn.Module):
    def __init__(self, groups, scale=1.0, num_classes=1000):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, _STEM, 3, 2), nn.MaxPool2d(3, 2, 1))
        width = int(_STAGE_WIDTHS[groups] * scale)
        units, cin = [], _STEM
        for i, repeats in enumerate(_STAGE_REPEATS):
            cout = width << i
            for j in range(repeats):
                stride = 2 if j == 0 else 1
                units.append(ShuffleUnit(cin, cout, stride, groups, group_first=cin != _STEM))
                cin = cout
        self.stages = nn.Sequential(*units)
        self.head = Classifier(cin, num_classes)

    def forward(self, x):
        return self.head(self.stages(self.stem(x)))


def shufflenet_v1(groups, scale=1.0):
    return ShuffleNetV1(groups, scale)
