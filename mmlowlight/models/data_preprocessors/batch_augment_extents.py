"""How mmdet's batch augments move the images inside the batch tensor (imports mmdet).

``LowLightDetDataPreprocessor`` runs the augments itself, one at a time, and maps the image
extents through each with :func:`follow_batch_augment`, using the same arithmetic as the
augment applies to ``img_shape``, so the extents stay right for batches without metainfo.
"""
from typing import List, Optional, Sequence, Tuple

import torch.nn as nn
from mmdet.models.data_preprocessors import BatchFixedSizePad, BatchResize, BatchSyncRandomResize

from .image_extents import Extent

__all__ = ['follow_batch_augment']


def _scaled(extents: Sequence[Extent], scale_y: float, scale_x: float) -> List[Extent]:
    return [(int(h * scale_y), int(w * scale_x)) for h, w in extents]


def follow_batch_augment(augment: nn.Module, extents: Sequence[Extent],
                         before: Tuple[int, int], after: Tuple[int, int],
                         data_samples: Optional[Sequence] = None) -> List[Extent]:
    """The image extents after ``augment`` turned a ``before`` batch into an ``after`` one.

    ``BatchFixedSizePad`` pads right/bottom (extents kept); ``BatchSyncRandomResize`` and
    ``BatchResize`` rescale the whole batch tensor (extents scaled as mmdet scales
    ``img_shape``). Another augment that keeps the batch size keeps the extents; one that
    changes it can only be followed through the ``img_shape`` it writes into the samples.

    Args:
        augment (nn.Module): The batch augment that ran.
        extents (Sequence[tuple[int, int]]): ``(h, w)`` per image before it.
        before (tuple[int, int]): Batch tensor ``(H, W)`` before it.
        after (tuple[int, int]): Batch tensor ``(H, W)`` after it.
        data_samples (Sequence, optional): The samples it returned.

    Returns:
        list[tuple[int, int]]: ``(h, w)`` per image after it.

    Raises:
        ValueError: An unknown augment changed the batch size and left no ``img_shape``.
    """
    before, after = tuple(before), tuple(after)
    if isinstance(augment, BatchFixedSizePad):
        return list(extents)
    if isinstance(augment, BatchSyncRandomResize):
        if before == after:
            return list(extents)
        return _scaled(extents, after[0] / before[0], after[1] / before[1])
    if isinstance(augment, BatchResize):
        scale = augment.get_target_size(*before)[2]
        return _scaled(extents, scale, scale)
    if before == after:
        return list(extents)
    shapes = [getattr(sample, 'metainfo', {}).get('img_shape') for sample in data_samples or ()]
    if len(shapes) == len(extents) and all(shape is not None for shape in shapes):
        return [(int(shape[0]), int(shape[1])) for shape in shapes]
    raise ValueError(
        f'batch augment {type(augment).__name__} changed the batch from {before} to {after} '
        'and recorded no img_shape in the data samples, so the low-light preprocessor cannot '
        'tell where the images lie: give the samples metainfo or use BatchFixedSizePad, '
        'BatchResize or BatchSyncRandomResize')
