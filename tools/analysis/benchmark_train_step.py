"""Time one SGZ training step: a reference written like the official code vs. mmlowlight.

Usage:
    python tools/analysis/benchmark_train_step.py [--batch 6] [--size 512] [--threads 2]
        [--steps 2] [--guide-depth 50 | --guide-backbone mobilenetv1] [--clock wall|cpu]

Both variants use the same weights, inputs and math (checked first: total loss and enhancer
gradients must agree); they differ only in how the step is computed:

- **reference** (the official ``train.py``/``Myloss.py``/``modeling`` code, op by op): EFE at full
  resolution in NCHW, ``L_spa8`` as 16 separate convolutions, ``L_color``, ``L_exp``, ``L_TV``, the
  one-hot softmax focal loss, and a guide whose weights keep ``requires_grad=True`` (as the
  official code leaves them, so every step also computes their unused gradients), NCHW.
- **mmlowlight**: :class:`ZeroShotEnhancer` with the registered losses (fused: one channel mean and
  pooling of ``enhanced - original``, one 8-channel depthwise conv), a frozen guide (no parameter
  gradients, BatchNorm folded into the convolutions) and channels-last (NHWC) tensors in the EFE
  and the guide.

Two deliberate deviations of the reference from the official code, so that the math matches: the
guide runs in eval mode (the official script leaves it in train mode, so its BatchNorm uses batch
statistics and its running statistics drift) and it normalises its input with ImageNet mean/std
(the official code feeds it the [0, 1] image, which an ImageNet backbone does not expect). Neither
changes the cost noticeably. The guide is randomly initialised (no download); its speed does not
depend on the weights. ``--guide-backbone mobilenetv1`` times the offline guide of
``configs/_base_/models/sgz_mobilenetv1_guide.py`` (MobileNetV1 x0.25 under a 64-channel FPN)
instead of the paper's ResNet FPN.

Printed per variant: seconds per step (median over ``--steps``, each measurement after one
untimed warm-up step) of the whole step and of "EFE + zero-reference losses" (the same step
without the semantic loss); "guide" is their difference (guide forward, focal loss, backward
through the guide), and "guide alone" times that part directly (the weighted semantic loss of a
fixed image batch and its backward to the image), which is steadier than a difference of two
noisy medians. Then the speed-ups.
"""
import argparse
import copy
import os.path as osp
import sys
import time
from typing import Dict, List

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # tools/: cli_types
import torch
import torch.nn as nn
import torch.nn.functional as F
from cli_types import non_negative_int, number, positive_int  # noqa: E402
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from torch import Tensor

from mmlowlight.models import SGZEnhancer, ZeroShotEnhancer
from mmlowlight.models.guides import FPNSegmentationGuide
from mmlowlight.utils import mmengine_log_level
from mmlowlight.utils.timing import median_seconds

LR, WEIGHT_DECAY, GRAD_CLIP = 1e-4, 1e-4, 0.1
MOBILENETV1_GUIDE_CONFIG = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                                    'configs', '_base_', 'models', 'sgz_mobilenetv1_guide.py')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch', type=positive_int, default=6,
                        help='images per step (official: 6)')
    parser.add_argument('--size', type=positive_int, default=512,
                        help='image side (official: 512)')
    parser.add_argument('--threads', type=positive_int, default=2, help='torch CPU threads')
    parser.add_argument('--steps', type=positive_int, default=1,
                        help='timed steps per measurement (each after one warm-up step)')
    parser.add_argument('--guide-depth', type=number(18, 152, integer=True), default=50,
                        help='ResNet depth of the guide')
    parser.add_argument('--guide-backbone', choices=('resnet', 'mobilenetv1'), default='resnet',
                        help='bottom-up path of the guide (mobilenetv1: the offline guide config)')
    parser.add_argument('--clock', choices=('wall', 'cpu'), default='wall',
                        help='wall time, or this process\'s CPU time (with --threads 1 the work '
                        'done, much less sensitive to other jobs on a shared machine)')
    parser.add_argument('--seed', type=non_negative_int, default=0)
    return parser.parse_args()


# ----------------------------------------------------------------------------------------------
# Reference: the official code's computations, op by op.
# ----------------------------------------------------------------------------------------------
def _shift_kernel(dy: int, dx: int) -> Tensor:
    kernel = torch.zeros(1, 1, 3, 3)
    kernel[0, 0, 1, 1] = 1
    kernel[0, 0, 1 + dy, 1 + dx] = -1
    return kernel


class OfficialSpa8(nn.Module):
    """``Myloss.L_spa8``: eight fixed kernels applied separately to both pooled images."""

    DIRECT = [(0, -1), (0, 1), (-1, 0), (1, 0)]
    DIAGONAL = [(-1, -1), (-1, 1), (1, -1), (1, 1)]

    def __init__(self, patch_size: int = 4) -> None:
        super().__init__()
        self.kernels = nn.ParameterList(
            nn.Parameter(_shift_kernel(dy, dx), requires_grad=False)
            for dy, dx in self.DIRECT + self.DIAGONAL)
        self.pool = nn.AvgPool2d(patch_size)

    def forward(self, org: Tensor, enhance: Tensor) -> Tensor:
        org_pool = self.pool(torch.mean(org, 1, keepdim=True))
        enhance_pool = self.pool(torch.mean(enhance, 1, keepdim=True))
        d = [torch.pow(F.conv2d(org_pool, k, padding=1) - F.conv2d(enhance_pool, k, padding=1), 2)
             for k in self.kernels]
        return (d[0] + d[1] + d[2] + d[3]) + 0.5 * (d[4] + d[5] + d[6] + d[7])


def official_color(x: Tensor) -> Tensor:
    mean_rgb = torch.mean(x, [2, 3], keepdim=True)
    mr, mg, mb = torch.split(mean_rgb, 1, dim=1)
    drg, drb, dgb = torch.pow(mr - mg, 2), torch.pow(mr - mb, 2), torch.pow(mb - mg, 2)
    return torch.pow(torch.pow(drg, 2) + torch.pow(drb, 2) + torch.pow(dgb, 2), 0.5)


def official_exposure(x: Tensor, mean_val: float = 0.6, patch_size: int = 16) -> Tensor:
    mean = nn.AvgPool2d(patch_size)(torch.mean(x, 1, keepdim=True))
    return torch.mean(torch.pow(mean - torch.FloatTensor([mean_val]), 2))


def official_tv(x: Tensor) -> Tensor:
    batch_size, h_x, w_x = x.size()[0], x.size()[2], x.size()[3]
    count_h = (x.size()[2] - 1) * x.size()[3]
    count_w = x.size()[2] * (x.size()[3] - 1)
    h_tv = torch.pow((x[:, :, 1:, :] - x[:, :, :h_x - 1, :]), 2).sum()
    w_tv = torch.pow((x[:, :, :, 1:] - x[:, :, :, :w_x - 1]), 2).sum()
    return 2 * (h_tv / count_h + w_tv / count_w) / batch_size


def official_focal(logits: Tensor, target: Tensor, gamma: float = 2, eps: float = 1e-7
                   ) -> Tensor:
    size = target.size()[:1] + (logits.size(1), ) + target.size()[1:]
    one_hot = torch.zeros(size).scatter_(1, target.view(target.size()[:1] + (1, ) +
                                                        target.size()[1:]), 1.)
    probs = (F.softmax(logits, dim=1) * one_hot).sum(1).clamp(eps, 1. - eps)
    return (-(torch.pow((1 - probs), gamma)) * probs.log()).mean()


def official_enhance(enhancer: SGZEnhancer, x: Tensor):
    """``enhance_net_nopool.forward`` with scale_factor 1 (training), NCHW."""
    b = enhancer.efe.blocks

    def dsc(block, t):
        return block.pointwise(block.depthwise(t))

    x1 = F.relu(dsc(b[0], x))
    x2 = F.relu(dsc(b[1], x1))
    x3 = F.relu(dsc(b[2], x2))
    x4 = F.relu(dsc(b[3], x3))
    x5 = F.relu(dsc(b[4], torch.cat([x3, x4], 1)))
    x6 = F.relu(dsc(b[5], torch.cat([x2, x5], 1)))
    x_r = torch.tanh(dsc(b[6], torch.cat([x1, x6], 1)))
    for _ in range(8):
        x = x + x_r * (torch.pow(x, 2) - x)
    return x, x_r


class Reference:
    """The official training step on copies of our enhancer and guide."""

    def __init__(self, enhancer: SGZEnhancer, guide: FPNSegmentationGuide) -> None:
        self.net = copy.deepcopy(enhancer).train()
        self.seg = copy.deepcopy(guide).eval()
        self.seg.channels_last = False
        self.seg.fold_batchnorm = False  # the official net runs its BatchNorm layers
        self.seg.to(memory_format=torch.contiguous_format)
        self.seg.requires_grad_(True)  # the official code never freezes it
        self.spa = OfficialSpa8()
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)

    def seg_loss(self, enhanced: Tensor) -> Tensor:
        seg_output = self.seg(enhanced)
        target = torch.argmax(F.log_softmax(seg_output, dim=1), dim=1).data
        return official_focal(seg_output, target)

    def losses(self, images: Tensor, semantic: bool = True) -> Tensor:
        enhanced, factor = official_enhance(self.net, images)
        loss = (1600 * official_tv(factor) + torch.mean(self.spa(enhanced, images)) +
                5 * torch.mean(official_color(enhanced)) +
                10 * torch.mean(official_exposure(enhanced)))
        if semantic:
            loss = loss + 0.1 * self.seg_loss(enhanced)
        return loss

    def step(self, images: Tensor, semantic: bool = True) -> None:
        loss = self.losses(images, semantic)
        self.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), GRAD_CLIP)
        self.optimizer.step()


# ----------------------------------------------------------------------------------------------
# mmlowlight.
# ----------------------------------------------------------------------------------------------
ZERO_REFERENCE_LOSSES = [
    dict(type='SpatialConsistencyLoss'), dict(type='ColorConstancyLoss'),
    dict(type='ExposureLoss'), dict(type='IlluminationSmoothnessLoss')
]


def guide_config(args: argparse.Namespace) -> dict:
    """The guide to time: the ResNet FPN of ``--guide-depth`` or the MobileNetV1 guide config
    (randomly initialised: the speed does not depend on the weights)."""
    if args.guide_backbone == 'resnet':
        return dict(type='FPNSegmentationGuide', depth=args.guide_depth)
    guide = Config.fromfile(MOBILENETV1_GUIDE_CONFIG).mobilenetv1_guide.to_dict()
    guide['backbone']['init_cfg'] = None
    return guide


def build_ours(guide: dict) -> ZeroShotEnhancer:
    semantic = dict(type='SemanticGuidanceLoss', guide=guide)
    preprocessor = dict(type='mmlowlight.EnhanceDataPreprocessor', bgr_to_rgb=False)
    model = ZeroShotEnhancer(enhancer=dict(type='SGZEnhancer'),
                             losses=ZERO_REFERENCE_LOSSES + [semantic],
                             data_preprocessor=preprocessor)
    with mmengine_log_level():  # init_weights logs every parameter at INFO
        model.init_weights()
    return model.train()


def optim_wrapper(model: nn.Module) -> OptimWrapper:
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY)
    return OptimWrapper(optimizer, clip_grad=dict(max_norm=GRAD_CLIP))


def check_same_math(model: ZeroShotEnhancer, reference: Reference, images: Tensor) -> None:
    """Same total loss and enhancer gradients on the same weights and inputs (before training)."""
    ours = sum(model(images, mode='loss').values())
    ours.backward()
    ours_grads = [p.grad.clone() for p in model.enhancer.parameters()]
    model.zero_grad(set_to_none=True)
    ref = reference.losses(images)
    ref.backward()
    ref_grads = [p.grad.clone() for p in reference.net.parameters()]
    reference.optimizer.zero_grad(set_to_none=True)
    reference.seg.zero_grad(set_to_none=True)
    grad_error = max(((a - b).norm() / b.norm().clamp_min(1e-12)).item()
                     for a, b in zip(ours_grads, ref_grads))
    print(f'total loss: reference {ref.item():.7f}, mmlowlight {ours.item():.7f} '
          f'(relative difference {abs(ref.item() - ours.item()) / abs(ref.item()):.1e}); '
          f'largest relative difference of the enhancer gradients {grad_error:.1e}')
    if not torch.allclose(ours, ref, rtol=1e-4, atol=1e-6) or grad_error > 1e-3:
        raise SystemExit('the two variants disagree: not the same math')


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    images = torch.rand(args.batch, 3, args.size, args.size) * 0.3  # dark, like the data
    model = build_ours(guide_config(args))
    reference = Reference(model.enhancer, model.losses[-1].guide)
    guide_name = (f'ResNet-{args.guide_depth}' if args.guide_backbone == 'resnet' else
                  'MobileNetV1 x0.25 (64-channel)')
    print(f'batch {args.batch}, {args.size}x{args.size}, {args.threads} threads, '
          f'guide {guide_name} FPN, median of {args.steps} step(s) after a warm-up')
    check_same_math(model, reference, images)

    zero_reference_only = ZeroShotEnhancer(
        enhancer=dict(type='SGZEnhancer'), losses=ZERO_REFERENCE_LOSSES,
        data_preprocessor=dict(type='mmlowlight.EnhanceDataPreprocessor', bgr_to_rgb=False))
    zero_reference_only.enhancer = model.enhancer
    wrapper, wrapper_zero_ref = optim_wrapper(model), optim_wrapper(zero_reference_only)
    data = dict(inputs=images)
    results: Dict[str, List[float]] = {}
    clock = time.process_time if args.clock == 'cpu' else time.perf_counter
    full = median_seconds(lambda: reference.step(images), args.steps, timer=clock)
    zero_ref = median_seconds(lambda: reference.step(images, semantic=False), args.steps,
                              timer=clock)
    results['reference'] = [full, zero_ref, full - zero_ref,
                            median_seconds(lambda: guide_alone_reference(reference, images),
                                           args.steps, timer=clock)]
    reference = None  # free its graphs and buffers before our model runs
    full = median_seconds(lambda: model.train_step(data, wrapper), args.steps, timer=clock)
    zero_ref = median_seconds(lambda: zero_reference_only.train_step(data, wrapper_zero_ref),
                              args.steps, timer=clock)
    results['mmlowlight'] = [full, zero_ref, full - zero_ref,
                             median_seconds(lambda: guide_alone_ours(model, images), args.steps,
                                            timer=clock)]
    print(f'{args.clock} clock')
    print(f'{"seconds/step":<14}{"full step":>12}{"EFE+zero-ref":>14}{"guide":>10}'
          f'{"guide alone":>13}')
    for name, (full, zero_ref, guide, alone) in results.items():
        print(f'{name:<14}{full:>12.2f}{zero_ref:>14.2f}{guide:>10.2f}{alone:>13.2f}')
    ref, ours = results['reference'], results['mmlowlight']
    print(f'{"speed-up":<14}{ref[0] / ours[0]:>11.2f}x{ref[1] / ours[1]:>13.2f}x'
          f'{ref[2] / ours[2]:>9.2f}x{ref[3] / ours[3]:>12.2f}x')


def guide_alone_reference(reference: Reference, images: Tensor) -> None:
    """The official semantic-loss part of a step: guide forward, focal loss, backward (into
    the image and, as officially, the guide's weights)."""
    enhanced = images.clone().requires_grad_()
    (0.1 * reference.seg_loss(enhanced)).backward()
    reference.seg.zero_grad(set_to_none=True)


def guide_alone_ours(model: ZeroShotEnhancer, images: Tensor) -> None:
    """Ours: the registered semantic loss on NHWC input, backward into the image only."""
    enhanced = images.clone().contiguous(memory_format=torch.channels_last).requires_grad_()
    model.losses[-1](enhanced, images, images).backward()


if __name__ == '__main__':
    main()
