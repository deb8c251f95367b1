# Zero-reference training on a folder of dark images (any layout; sub-folders are included),
# validated without references on another folder of dark images (NoReferenceStatistics).
# The official recipe resizes every image to 512 x 512 (official dataloader); random flips added.
# Point the folders elsewhere with e.g.
#   --cfg-options train_dataloader.dataset.data_root=PATH val_dataloader.dataset.data_root=PATH \
#                 test_dataloader.dataset.data_root=PATH
dataset_type = 'UnpairedImageDataset'
train_data_root = 'data/unpaired'
val_data_root = 'data/lol15/low'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PairedResize', scale=(512, 512), keep_ratio=False),
    dict(type='PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackEnhanceInputs'),
]
# Full resolution at test time; batch size 1 because the images differ in size.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackEnhanceInputs'),
]

train_dataloader = dict(
    batch_size=6,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=train_data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type, data_root=val_data_root, pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='NoReferenceStatistics', patch_size=16, well_exposed_level=0.6)
test_evaluator = val_evaluator
