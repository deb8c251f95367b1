"""Where each image of a batch lies, taken from the tensors the data preprocessor receives.

mmengine's / mmdet's / mmseg's ``stack_batch`` pad every image at its right and bottom, so an
image keeps the top-left corner of its slot in the batch tensor and its extent is the size of
the tensor it arrived as. That size is always there, also in batches built by hand without
data samples or metainfo, so the low-light preprocessors locate the padding from it and use
``img_shape`` only as a cross-check.
"""
from typing import List, Optional, Sequence, Tuple, Union

from torch import Tensor

__all__ = ['Extent', 'input_extents', 'clip_extents', 'metainfo_disagreements']

#: (height, width) of an image, placed at the top left of its slot in the batch tensor.
Extent = Tuple[int, int]


def input_extents(inputs: Union[Tensor, Sequence[Tensor]]) -> List[Extent]:
    """The size of each image as it enters the preprocessor (before stacking and padding).

    Args:
        inputs (Tensor | Sequence[Tensor]): ``pseudo_collate`` output (a list of (C, H, W)
            tensors, sizes may differ) or a ``default_collate`` (N, C, H, W) tensor.

    Returns:
        list[tuple[int, int]]: ``(H, W)`` per image.

    Raises:
        TypeError: ``inputs`` is neither.
    """
    if isinstance(inputs, Tensor):
        if inputs.dim() != 4:
            raise TypeError('a stacked batch of images must be (N, C, H, W), got shape '
                            f'{tuple(inputs.shape)}')
        return [(int(inputs.shape[-2]), int(inputs.shape[-1]))] * int(inputs.shape[0])
    if isinstance(inputs, (list, tuple)) and all(isinstance(x, Tensor) and x.dim() >= 2
                                                 for x in inputs):
        return [(int(x.shape[-2]), int(x.shape[-1])) for x in inputs]
    raise TypeError('inputs must be a (N, C, H, W) tensor or a list of (C, H, W) tensors, got '
                    f'{type(inputs).__name__}')


def clip_extents(extents: Sequence[Extent], height: int, width: int) -> List[Extent]:
    """Clip extents to a batch tensor of ``height`` x ``width`` (at least one pixel)."""
    return [(max(1, min(h, height)), max(1, min(w, width))) for h, w in extents]


def metainfo_disagreements(extents: Sequence[Extent],
                           data_samples: Optional[Sequence]) -> List[str]:
    """Samples whose ``img_shape`` differs from the size of their image tensor.

    Args:
        extents (Sequence[tuple[int, int]]): :func:`input_extents` of the batch.
        data_samples (Sequence, optional): The batch's data samples (None, or samples with or
            without metainfo).

    Returns:
        list[str]: One description per disagreeing sample; empty if all agree or carry none.
    """
    found = []
    for index, (extent, sample) in enumerate(zip(extents, data_samples or ())):
        meta = getattr(sample, 'metainfo', None) or {}
        img_shape = meta.get('img_shape')
        if img_shape is None:
            continue
        recorded = tuple(int(v) for v in tuple(img_shape)[:2])
        if recorded != tuple(extent):
            found.append(f'sample {index}: img_shape {recorded}, image tensor {tuple(extent)}')
    return found
