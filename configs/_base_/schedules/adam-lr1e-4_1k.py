# The official SGZ optimiser (Adam, lr 1e-4, weight decay 1e-4, grad-norm clip 0.1) on an
# iteration budget small enough for CPU training. Leaf configs set the checkpoint hook and the
# log processor to count iterations (by_epoch=False).
_base_ = ['./adam-lr1e-4_100e.py']

train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=1000, val_interval=250)
