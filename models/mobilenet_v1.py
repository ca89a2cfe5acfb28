"""MobileNet v1 (Howard et al. 2017).

A 3x3 stride-2 conv (32 channels) then 13 depthwise-separable layers (3x3
depthwise + BN + ReLU, 1x1 pointwise + BN + ReLU), global average pool and a
fully connected layer. The width multiplier alpha scales every layer's
channels; the resolution multiplier is just the input size (224, 192, 160,
128), which the global pool absorbs.
"""

from torch import nn

from layers import Classifier, conv_bn

# (pointwise output channels, depthwise stride) at alpha = 1.
_LAYERS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
           (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]


def separable(cin, cout, stride):
    return nn.Sequential(conv_bn(cin, cin, 3, stride, groups=cin), conv_bn(cin, cout, 1))


class MobileNetV1(nn.Module):
    def __init__(self, alpha=1.0, num_classes=1000):
        super().__init__()
        cin = int(32 * alpha)
        layers = [conv_bn(3, cin, 3, 2)]
        for c, stride in _LAYERS:
            layers.append(separable(cin, int(c * alpha), stride))
            cin = int(c * alpha)
        self.features = nn.Sequential(*layers)
        self.head = Classifier(cin, num_classes)

    def forward(self, x):
        return self.head(self.features(x))


def mobilenet_v1(alpha):
    return MobileNetV1(alpha)
