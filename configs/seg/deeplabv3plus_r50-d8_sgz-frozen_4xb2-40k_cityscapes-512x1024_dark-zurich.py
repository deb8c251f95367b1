# deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024_dark-zurich.py
# with a frozen SGZ enhancer in front (the package's default weights).
_base_ = [
    './deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024_dark-zurich.py',
    '../_base_/models/sgz_preprocessors.py'
]

custom_imports = dict(imports=['mmlowlight'], allow_failed_imports=False)
model = dict(data_preprocessor=_base_.sgz_seg_frozen)
