# deeplabv3plus_r50-d8_4xb2-40k_acdc-night-512x1024.py
# with an SGZ enhancer in front, trained jointly with the segmentor (from the package's default
# weights) under the segmentation loss plus SGZ's zero-reference losses.
_base_ = [
    './deeplabv3plus_r50-d8_4xb2-40k_acdc-night-512x1024.py',
    '../_base_/models/sgz_preprocessors.py'
]

custom_imports = dict(imports=['mmlowlight'], allow_failed_imports=False)
model = dict(data_preprocessor=_base_.sgz_seg_joint)
custom_hooks = [dict(type='mmlowlight.AuxLossHook'), _base_.sgz_non_finite_guard]
