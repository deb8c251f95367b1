# DeepLabV3+-R50-D8 trained on Cityscapes (day) and evaluated on dark-zurich (night): the
# day -> night protocol; the plain mmseg baseline of the SGZ variant.
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py', '../_base_/datasets/dark_zurich.py',
    'mmseg::_base_/default_runtime.py', 'mmseg::_base_/schedules/schedule_40k.py'
]

crop_size = (512, 1024)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
