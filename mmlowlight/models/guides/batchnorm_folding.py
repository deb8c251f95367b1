"""Eval-mode BatchNorm folded into the convolution before it, computed at run time.

The frozen guides run every convolution + BatchNorm pair as one convolution whose weight and bias
are derived from the current (unchanged, stored) parameters at each forward: the same function,
without BatchNorm's passes over the activations in the forward and the backward.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


def conv_bn_folded(x: Tensor, conv: nn.Conv2d, bn: nn.BatchNorm2d) -> Tensor:
    """``bn(conv(x))`` with ``bn`` in eval mode, as a single convolution.

    Args:
        x (Tensor): Input (N, C_in, H, W); NHWC (channels-last) inputs get an NHWC weight.
        conv (nn.Conv2d): The convolution (any stride, padding, dilation, groups, bias).
        bn (nn.BatchNorm2d): The BatchNorm after it; its running statistics are used.

    Returns:
        Tensor: (N, C_out, H', W'), equal to ``bn.eval()(conv(x))`` up to rounding.
    """
    scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
    bias = bn.bias - bn.running_mean * scale
    if conv.bias is not None:
        bias = bias + conv.bias * scale
    weight = (conv.weight * scale.view(-1, 1, 1, 1)).contiguous(
        memory_format=torch.channels_last if x.is_contiguous(
            memory_format=torch.channels_last) else torch.contiguous_format)
    return F.conv2d(x, weight, bias, conv.stride, conv.padding, conv.dilation, conv.groups)
