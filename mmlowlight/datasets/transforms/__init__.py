from .formatting import PackEnhanceInputs
from .loading import LoadReferenceImage
from .paired_transforms import PairedRandomCrop, PairedRandomFlip, PairedResize

__all__ = [
    'LoadReferenceImage', 'PackEnhanceInputs', 'PairedRandomCrop', 'PairedRandomFlip',
    'PairedResize'
]
