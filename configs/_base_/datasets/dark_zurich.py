# Dark Zurich val (50 labelled night images, 1920x1080) as the val/test set of a model trained on
# Cityscapes (the usual day -> night protocol; mmseg's DarkZurichDataset).
_base_ = 'mmseg::_base_/datasets/cityscapes.py'

test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1920, 1080), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
val_dataloader = dict(
    dataset=dict(
        type='DarkZurichDataset',
        data_root='data/dark_zurich/',
        data_prefix=dict(
            img_path='rgb_anon/val/night/GOPR0356', seg_map_path='gt/val/night/GOPR0356'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
