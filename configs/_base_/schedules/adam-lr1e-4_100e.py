# The official SGZ optimisation: Adam (L2 weight decay), constant lr 1e-4, gradient-norm clip 0.1,
# 100 epochs.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-4),
    clip_grad=dict(max_norm=0.1, norm_type=2))
param_scheduler = []

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# Official batch size: 6 images on one GPU.
auto_scale_lr = dict(enable=False, base_batch_size=6)
