"""SemanticGuidanceLoss: focal loss formula, frozen guide, gradients, state dict exclusion."""
import math

import pytest
import torch
import torch.nn as nn

from mmlowlight.models.losses import SemanticGuidanceLoss, softmax_focal_loss
from mmlowlight.registry import MODELS


def _focal_by_hand(logits, target, gamma=2.0, beta=1.0, eps=1e-7):
    n, k, h, w = logits.shape
    total = 0.0
    for b in range(n):
        for y in range(h):
            for x in range(w):
                scores = [float(logits[b, c, y, x]) for c in range(k)]
                top = max(scores)
                denominator = sum(math.exp(s - top) for s in scores)
                p = math.exp(scores[int(target[b, y, x])] - top) / denominator
                p = min(max(p, eps), 1 - eps)
                total += -beta * (1 - p)**gamma * math.log(p)
    return total / (n * h * w)


def _toy_guide():
    """A guide with BatchNorm, so that eval locking is observable."""
    torch.manual_seed(0)
    guide = nn.Sequential(nn.Conv2d(3, 5, 3, padding=1), nn.BatchNorm2d(5), nn.Conv2d(5, 4, 1))
    with torch.no_grad():
        guide[1].running_mean.uniform_(-0.2, 0.2)
        guide[1].running_var.uniform_(0.5, 2)
    return guide


class TestSoftmaxFocalLoss:

    @pytest.mark.parametrize('gamma,beta', [(2.0, 1.0), (0.0, 1.0), (1.5, 0.5)])
    def test_matches_hand_computation(self, gamma, beta):
        gen = torch.Generator().manual_seed(1)
        logits = torch.randn(2, 4, 3, 5, generator=gen) * 3
        target = torch.randint(0, 4, (2, 3, 5), generator=gen)
        expected = _focal_by_hand(logits, target, gamma, beta)
        loss = softmax_focal_loss(logits, target, gamma, beta)
        assert loss.item() == pytest.approx(expected, rel=1e-5)

    def test_clamps_confident_pixels(self):
        logits = torch.tensor([[[[60.0]], [[0.0]]]])  # p(target) rounds to 1
        loss = softmax_focal_loss(logits, torch.zeros(1, 1, 1, dtype=torch.long))
        assert loss.item() == pytest.approx((1e-7)**2 * -math.log(1 - 1e-7), rel=1e-2)
        assert math.isfinite(loss.item())


class TestSemanticGuidanceLoss:

    def test_loss_is_focal_on_argmax(self):
        guide = _toy_guide()
        loss = SemanticGuidanceLoss(guide=guide)
        enhanced = torch.rand(2, 3, 6, 7)
        with torch.no_grad():
            logits = guide.eval()(enhanced)
        expected = 0.1 * _focal_by_hand(logits, logits.argmax(1))
        value = loss(enhanced, enhanced, enhanced)
        assert value.item() == pytest.approx(expected, rel=1e-5)
        assert loss.loss_name == 'loss_semantic'

    def test_guide_frozen_but_gradient_reaches_image(self):
        loss = SemanticGuidanceLoss(guide=_toy_guide())
        loss.train()
        guide = loss.guide
        assert not guide.training and not guide[1].training
        assert all(not p.requires_grad for p in guide.parameters())
        stats = guide[1].running_mean.clone()
        enhanced = torch.rand(2, 3, 6, 7, requires_grad=True)
        loss(enhanced, enhanced.detach(), enhanced.detach()).backward()
        assert enhanced.grad is not None and enhanced.grad.abs().sum() > 0
        assert all(p.grad is None for p in guide.parameters())
        assert torch.equal(guide[1].running_mean, stats)

    def test_gradient_matches_autograd_of_manual_loss(self):
        guide = _toy_guide().eval()
        loss = SemanticGuidanceLoss(guide=guide, loss_weight=1.0)
        enhanced = torch.rand(1, 3, 4, 4, dtype=torch.float64)
        guide.double()
        target = guide(enhanced).argmax(1)
        assert torch.autograd.gradcheck(lambda e: softmax_focal_loss(guide(e), target),
                                        enhanced.clone().requires_grad_(True), fast_mode=True)
        image = enhanced.clone().requires_grad_(True)
        loss(image, image, image).backward()
        reference = enhanced.clone().requires_grad_(True)
        softmax_focal_loss(guide(reference), target).backward()
        assert torch.allclose(image.grad, reference.grad)

    def test_state_dict_excludes_guide_and_loads_without_it(self):
        loss = SemanticGuidanceLoss(guide=_toy_guide())
        assert dict(loss.state_dict()) == {}
        holder = nn.ModuleDict(dict(semantic=loss, other=nn.Linear(2, 2)))
        state = holder.state_dict()
        assert sorted(state) == ['other.bias', 'other.weight']
        before = {k: v.clone() for k, v in loss.guide.state_dict().items()}
        fresh = nn.ModuleDict(dict(semantic=SemanticGuidanceLoss(guide=_toy_guide()),
                                   other=nn.Linear(2, 2)))
        result = fresh.load_state_dict(state, strict=True)
        assert not result.missing_keys and not result.unexpected_keys
        assert torch.equal(fresh.other.weight, holder.other.weight)
        for key, value in fresh.semantic.guide.state_dict().items():
            assert torch.equal(value, before[key])

    def test_builds_guide_from_config(self):
        loss = MODELS.build(dict(
            type='mmlowlight.SemanticGuidanceLoss',
            guide=dict(type='FPNSegmentationGuide', depth=18, num_classes=3)))
        assert loss.guide.num_classes == 3
        assert not loss.guide.training
        assert loss.loss_weight == pytest.approx(0.1)
