"""Enhancers with random weights for tests of the enhancer and of its fast CPU runtime."""
import torch

from mmlowlight.models.enhancers import SGZEnhancer


def random_enhancer(**kwargs) -> SGZEnhancer:
    """An ``SGZEnhancer(**kwargs)`` in eval mode with seeded weights 10x the N(0, 0.02) init,
    so that the factor map is far from zero."""
    torch.manual_seed(0)
    model = SGZEnhancer(**kwargs)
    model.init_weights()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(10)
    return model.eval()
