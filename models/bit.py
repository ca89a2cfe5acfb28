"""Big Transfer (BiT, Kolesnikov et al. 2019) ResNet-v2 classifiers.

ResNet-v2 (He et al. 2016, "Identity Mappings") uses pre-activation units:
norm + ReLU come before each convolution, the projection shortcut takes the
pre-activated input and nothing follows the residual addition. BiT replaces
BatchNorm by GroupNorm (32 groups) and standardizes every convolution's
weight (zero mean, unit variance per output filter). The standardization is
computed in forward() from the stored weight, so an ONNX export carries it
as a subgraph on the weight initializer (ReduceMean, Sub, ..., Div before
Conv) that a loader has to constant-fold.

Root: 7x7 stride-2 conv, pad 1, 3x3 stride-2 max pool. Head: GroupNorm,
ReLU, global average pool, 1x1 conv to the classes. Stride sits on the 3x3.
R50x1 has [3, 4, 6, 3] units at width factor 1; R152x4 [3, 8, 36, 3] at 4.
"""

import torch
from torch import nn


class StdConv2d(nn.Conv2d):
    """Conv2d whose weight is standardized per output channel at every call."""

    eps = 1e-10

    def forward(self, x):
        w = self.weight
        mean = w.mean(dim=(1, 2, 3), keepdim=True)
        var = ((w - mean) ** 2).mean(dim=(1, 2, 3), keepdim=True)
        w = (w - mean) / torch.sqrt(var + self.eps)
        return nn.functional.conv2d(x, w, self.bias, self.stride, self.padding,
                                    self.dilation, self.groups)


def std_conv(cin, cout, k, stride=1):
    return StdConv2d(cin, cout, k, stride, k // 2, bias=False)


def group_norm_relu(channels):
    return nn.Sequential(nn.GroupNorm(32, channels), nn.ReLU(inplace=True))


class PreActBottleneck(nn.Module):
    def __init__(self, cin, cout, mid, stride):
        super().__init__()
        self.pre = group_norm_relu(cin)
        self.conv1 = std_conv(cin, mid, 1)
        self.act2 = group_norm_relu(mid)
        self.conv2 = std_conv(mid, mid, 3, stride)
        self.act3 = group_norm_relu(mid)
        self.conv3 = std_conv(mid, cout, 1)
        self.project = std_conv(cin, cout, 1, stride) if stride > 1 or cin != cout else None

    def forward(self, x):
        y = self.pre(x)
        shortcut = self.project(y) if self.project is not None else x
        y = self.conv3(self.act3(self.conv2(self.act2(self.conv1(y)))))
        return y + shortcut


class ResNetV2(nn.Module):
    def __init__(self, depths, width_factor, num_classes=1000):
        super().__init__()
        wf = width_factor
        self.root = nn.Sequential(std_conv(3, 64 * wf, 7, 2), nn.ConstantPad2d(1, 0.0),
                                  nn.MaxPool2d(3, 2))
        units, cin = [], 64 * wf
        for i, n in enumerate(depths):
            mid = 64 * wf << i
            for j in range(n):
                units.append(PreActBottleneck(cin, mid * 4, mid, 2 if i > 0 and j == 0 else 1))
                cin = mid * 4
        self.body = nn.Sequential(*units)
        self.head = nn.Sequential(group_norm_relu(cin), nn.AdaptiveAvgPool2d(1),
                                  nn.Conv2d(cin, num_classes, 1))

    def forward(self, x):
        return torch.flatten(self.head(self.body(self.root(x))), 1)


def bit_s_r50x1():
    return ResNetV2([3, 4, 6, 3], 1)


def bit_s_r152x4():
    return ResNetV2([3, 8, 36, 3], 4)
