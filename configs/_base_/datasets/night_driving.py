# Nighttime Driving test (50 coarsely labelled night images, 1920x1080) as the val/test set of a
# model trained on Cityscapes (mmseg's NightDrivingDataset).
_base_ = 'mmseg::_base_/datasets/cityscapes.py'

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1920, 1080), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
val_dataloader = dict(
    dataset=dict(
        type='NightDrivingDataset',
        data_root='data/NighttimeDrivingTest/',
        data_prefix=dict(
            img_path='leftImg8bit/test/night',
            seg_map_path='gtCoarse_daytime_trainvaltest/test/night'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
