"""Res2Net (Gao et al. 2019).

The Res2Net bottleneck replaces the 3x3 of a ResNet bottleneck with a
hierarchy: the 1x1 output is split into `scale` groups x1..xs of `width`
channels; one group skips the convs, the next goes through K1 and every
later one through Ki(xi + y(i-1)), each Ki a 3x3 conv + BN + ReLU; the
concatenated y's go through the fusing 1x1 (the paper numbers the skipping
group first; it is the last one here). In the first block of a stage the
shapes change, so the splits are not chained: every Ki sees only its own xi
with the block's stride, and the skipping group passes through a 3x3 average
pool with that stride instead.

Res2NeXt makes each Ki a grouped conv (cardinality groups) and, as shipped
here, adds an SE gate after the fusing 1x1 (SE-Res2NeXt).
"""

import torch
from torch import nn

from layers import Classifier, SqueezeExcite, conv_bn
from resnet_variants import shortcut_make, stem_make


class Res2Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride, cfg):
        super().__init__()
        scale, groups = cfg["scale"], cfg["groups"]
        self.width = planes * cfg["base_width"] // 64 * groups
        self.first = stride > 1 or cin != planes * self.expansion
        cout = planes * self.expansion
        self.reduce = conv_bn(cin, self.width * scale, 1)
        self.convs = nn.ModuleList(conv_bn(self.width, self.width, 3, stride, groups=groups)
                                   for _ in range(scale - 1))
        self.pool = nn.AvgPool2d(3, stride, 1) if self.first else None
        self.fuse = conv_bn(self.width * scale, cout, 1, act=None)
        self.se = SqueezeExcite(cout) if cfg["se"] else nn.Identity()
        self.shortcut = shortcut_make(cin, cout, stride, False)
        self.relu = nn.ReLU(inplace=True)

    def hierarchy(self, x):
        xs = torch.split(x, self.width, dim=1)
        ys, prev = [], None
        for k, conv in enumerate(self.convs):
            inp = xs[k] if prev is None or self.first else xs[k] + prev
            prev = conv(inp)
            ys.append(prev)
        ys.append(self.pool(xs[-1]) if self.first else xs[-1])
        return torch.cat(ys, 1)

    def forward(self, x):
        y = self.se(self.fuse(self.hierarchy(self.reduce(x))))
        return self.relu(y + self.shortcut(x))


class Res2Net(nn.Module):
    def __init__(self, depths, base_width, scale, groups=1, se=False, num_classes=1000):
        super().__init__()
        cfg = {"base_width": base_width, "scale": scale, "groups": groups, "se": se}
        self.stem = stem_make(deep=False)
        blocks, cin = [], 64
        for i, n in enumerate(depths):
            planes = 64 << i
            for j in range(n):
                blocks.append(Res2Bottleneck(cin, planes, 2 if i > 0 and j == 0 else 1, cfg))
                cin = planes * Res2Bottleneck.expansion
        self.stages = nn.Sequential(*blocks)
        self.head = Classifier(cin, num_classes)

    def forward(self, x):
        return self.head(self.stages(self.stem(x)))


def res2net50_26w_4s():
    return Res2Net([3, 4, 6, 3], base_width=26, scale=4)


def res2next50_se():
    """Res2NeXt-50 with cardinality 8, 4 channels per group, scale 4, SE."""
    return Res2Net([3, 4, 6, 3], base_width=4, scale=4, groups=8, se=True)
