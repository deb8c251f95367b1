# The official SGZ optimiser (Adam, lr 1e-4, weight decay 1e-4, grad-norm clip 0.1) on an
# iteration budget small enough for CPU training. Leaf configs set the checkpoint hook and the
# log processor to count iterations (by_epoch=False).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-4),
    clip_grad=dict(max_norm=0.1, norm_type=2))
param_scheduler = []

train_cfg = dict(type='IterBasedTrainLoop', max_iters=1000, val_interval=250)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
