# A CPU-sized SGZ recipe: batch 8 of random 256x256 crops (after a random rescale to 70-100 % of
# 600x400), 1,000 iterations, the official optimiser. Without the semantic loss: its guide needs
# the ImageNet ResNet-50 weights, which cannot be downloaded offline (the four zero-reference
# losses keep their official weights). Used to train the package's default weights:
#   python tools/train.py configs/sgz/sgz-noguide_dsc_adam-lr1e-4_bs8-256_1k_unpaired.py \
#       --cfg-options train_dataloader.dataset.data_root=../shared/data/unpaired \
#                     val_dataloader.dataset.data_root=../shared/data/lol15/low \
#                     test_dataloader.dataset.data_root=../shared/data/lol15/low
_base_ = [
    '../_base_/models/sgz.py', '../_base_/datasets/unpaired_lowlight.py',
    '../_base_/schedules/adam-lr1e-4_1k.py', '../_base_/default_runtime.py'
]
model = dict(losses=_base_.zero_reference_losses)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResize', scale=(600, 400), ratio_range=(0.7, 1.0), keep_ratio=True,
         resize_type='PairedResize'),
    dict(type='PairedRandomCrop', crop_size=256),
    dict(type='PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackEnhanceInputs'),
]
train_dataloader = dict(batch_size=8, num_workers=2, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=1)
test_dataloader = val_dataloader

default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=250, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
