"""Enhancers with random weights and test scenes, for tests of the enhancer and of its fast CPU
runtime."""
from typing import Optional

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


#: The lamp of :func:`night_street`: 6 x 10 pixels, 1.1 % of the default 60 x 90.
LAMP = (slice(10, 16), slice(20, 30))


def night_street(level: float = 0.04, lamp: Optional[tuple] = LAMP, size=(60, 90),
                 seed: int = 0, lamp_level: float = 0.42) -> torch.Tensor:
    """A dark scene lit by its own lamp: (1, 3, H, W) float32 in [0, 1].

    Texture uniform in [0.6, 1.4] x ``level``; a plateau at ``lamp_level`` (a clipped lamp in a
    darkened photo) on the ``lamp`` slices of H and W (None: no lamp, a dim room)."""
    gen = torch.Generator().manual_seed(seed)
    x = (level * (0.6 + 0.8 * torch.rand(1, 3, *size, generator=gen))).clamp(0, 1)
    if lamp is not None:
        x[(..., ) + tuple(lamp)] = lamp_level
    return x
