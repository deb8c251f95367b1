# The official SGZ recipe trained on the LOL training split's low-light images only (no
# references are used for training) and validated with references on LOL eval15 (PSNR / SSIM).
_base_ = [
    '../_base_/models/sgz.py', '../_base_/datasets/lol.py',
    '../_base_/schedules/adam-lr1e-4_100e.py', '../_base_/default_runtime.py'
]
default_hooks = dict(checkpoint=dict(save_best='PSNR', rule='greater'))
