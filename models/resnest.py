"""ResNeSt (Zhang et al. 2020): ResNet with split-attention bottlenecks.

Split attention (radix R, cardinality K): one grouped 3x3 conv (K * R
groups) produces R feature-map splits per cardinal group; their sum is
globally pooled and sent through FC (1x1 conv) + BN + ReLU + FC, giving R
logits per channel; "r-softmax" normalizes them across the R splits
(reshape to (N, K, R, -1), swap K and R, softmax over R); the output is the
attention-weighted sum of the splits.

ResNeSt-50 (radix 2, cardinality 1, 64 channels per group) also uses the
deep stem (three 3x3 convs, 32/32/64), "avg-down" shortcuts (2x2 stride-2
average pool, then a stride-1 1x1 conv) and moves a block's stride to a 3x3
average pool after the split-attention conv.
"""

import torch
from torch import nn

from layers import Classifier, conv_bn


def tensor_sum(tensors):
    """Sum without the int 0 that Python's sum() would add to the graph."""
    total = tensors[0]
    for t in tensors[1:]:
        total = total + t
    return total


class SplitAttention(nn.Module):
    def __init__(self, channels, radix, cardinality, reduction=4, min_hidden=32):
        super().__init__()
        self.radix, self.cardinality = radix, cardinality
        hidden = max(channels * radix // reduction, min_hidden)
        self.conv = conv_bn(channels, channels * radix, 3, groups=cardinality * radix)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Sequential(nn.Conv2d(channels, hidden, 1, groups=cardinality),
                                 nn.BatchNorm2d(hidden), nn.ReLU(inplace=True))
        self.fc2 = nn.Conv2d(hidden, channels * radix, 1, groups=cardinality)

    def r_softmax(self, logits):
        n = logits.shape[0]
        x = logits.reshape(n, self.cardinality, self.radix, -1).transpose(1, 2)
        return torch.softmax(x, dim=1).reshape(n, -1, 1, 1)

    def forward(self, x):
        splits = torch.chunk(self.conv(x), self.radix, dim=1)
        gap = self.pool(tensor_sum(splits))
        att = torch.chunk(self.r_softmax(self.fc2(self.fc1(gap))), self.radix, dim=1)
        return tensor_sum([a * s for a, s in zip(att, splits)])


class SplatBottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride, radix, cardinality):
        super().__init__()
        width = planes * cardinality  # 64 channels per cardinal group at stage 1
        cout = planes * self.expansion
        self.conv1 = conv_bn(cin, width, 1)
        self.splat = SplitAttention(width, radix, cardinality)
        self.avd = nn.AvgPool2d(3, stride, 1) if stride > 1 else nn.Identity()
        self.conv3 = conv_bn(width, cout, 1, act=None)
        self.shortcut = nn.Identity()
        if stride > 1:
            self.shortcut = nn.Sequential(
                nn.AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False),
                conv_bn(cin, cout, 1, act=None))
        elif cin != cout:
            self.shortcut = conv_bn(cin, cout, 1, act=None)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        y = self.conv3(self.avd(self.splat(self.conv1(x))))
        return self.relu(y + self.shortcut(x))


class ResNeSt(nn.Module):
    def __init__(self, depths, radix=2, cardinality=1, num_classes=1000):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(3, 32, 3, 2), conv_bn(32, 32, 3), conv_bn(32, 64, 3),
                                  nn.MaxPool2d(3, 2, 1))
        blocks, cin = [], 64
        for i, n in enumerate(depths):
            planes = 64 << i
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                blocks.append(SplatBottleneck(cin, planes, stride, radix, cardinality))
                cin = planes * SplatBottleneck.expansion
        self.stages = nn.Sequential(*blocks)
        self.head = Classifier(cin, num_classes)

    def forward(self, x):
        return self.head(self.stages(self.stem(x)))


def resnest50():
    return ResNeSt([3, 4, 6, 3])
