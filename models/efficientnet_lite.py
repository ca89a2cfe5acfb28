"""EfficientNet-Lite0: EfficientNet-B0 (Tan and Le 2019) adapted for mobile
accelerators by its authors: no squeeze-and-excitation, ReLU6 instead of
swish, and the stem (32) and head (1280) widths are fixed rather than scaled
(for Lite0 the scaling factors are 1, so only the first two changes show).

MBConv block: 1x1 expansion (skipped when the ratio is 1) + BN + ReLU6,
k x k depthwise + BN + ReLU6, 1x1 projection + BN (linear), identity
residual when stride is 1 and the widths match. Stochastic depth is the
identity at inference, so it does not appear.
"""

from torch import nn

from layers import Classifier, conv_bn

# B0's stages: expansion ratio, kernel, stride, output channels, repeats.
_STAGES = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
           (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)]


class MBConv(nn.Module):
    def __init__(self, cin, cout, expand, k, stride):
        super().__init__()
        mid = cin * expand
        layers = [conv_bn(cin, mid, 1, act=nn.ReLU6)] if expand != 1 else []
        layers += [conv_bn(mid, mid, k, stride, groups=mid, act=nn.ReLU6),
                   conv_bn(mid, cout, 1, act=None)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.block(x)
        return x + y if self.residual else y


class EfficientNetLite(nn.Module):
    def __init__(self, num_classes=1000):
        super().__init__()
        layers, cin = [conv_bn(3, 32, 3, 2, act=nn.ReLU6)], 32
        for expand, k, stride, cout, repeats in _STAGES:
            for j in range(repeats):
                layers.append(MBConv(cin, cout, expand, k, stride if j == 0 else 1))
                cin = cout
        layers.append(conv_bn(cin, 1280, 1, act=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.head = Classifier(1280, num_classes)

    def forward(self, x):
        return self.head(self.features(x))


def efficientnet_lite0():
    return EfficientNetLite()
