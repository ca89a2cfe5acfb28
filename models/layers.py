"""Building blocks shared by the zoo's network definitions."""

import torch
from torch import nn


def conv_bn(cin, cout, k, stride=1, groups=1, act=nn.ReLU):
    """k x k convolution (padding k // 2, no bias), BatchNorm, then `act`
    unless it is None."""
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
              nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act(inplace=True))
    return nn.Sequential(*layers)


class SqueezeExcite(nn.Module):
    """Squeeze-and-Excitation (Hu et al.): global average pool, a bottleneck
    of two 1x1 convolutions (ReLU between), a sigmoid gate per channel."""

    def __init__(self, channels, reduction=16, min_hidden=8):
        super().__init__()
        hidden = max(channels // reduction, min_hidden)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(hidden, channels, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x):
        w = self.gate(self.fc2(self.relu(self.fc1(self.pool(x)))))
        return x * w


def channel_shuffle(x, groups):
    """ShuffleNet's shuffle: view the channels as (groups, c / groups),
    transpose to (c / groups, groups) and flatten back."""
    n, c, h, w = x.shape
    x = x.reshape(n, groups, c // groups, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.reshape(n, c, h, w)


class Classifier(nn.Module):
    """Global average pool, flatten, fully connected."""

    def __init__(self, channels, num_classes=1000):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(x), 1))
