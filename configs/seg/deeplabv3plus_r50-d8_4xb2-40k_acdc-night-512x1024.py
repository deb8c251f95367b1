# DeepLabV3+-R50-D8 on ACDC night (19 Cityscapes classes), the plain mmseg baseline of the SGZ
# variants; mmseg's Cityscapes 512x1024 recipe.
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py', '../_base_/datasets/acdc_night.py',
    'mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_40k.py'
]

crop_size = (512, 1024)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
