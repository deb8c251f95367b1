# Runtime shared by the standalone (zero-shot) SGZ configs.
default_scope = 'mmlowlight'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # input | enhanced | factor map panels of every 5th val/test image, written by the
    # visualizer's backends (LocalVisBackend: <work_dir>/<timestamp>/vis_data/vis_image/).
    visualization=dict(type='EnhancementVisualizationHook', interval=5))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to gloo when torchrun starts it on a machine without GPU.
    dist_cfg=dict(backend='nccl'))

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends, name='visualizer')
# Like mmengine's LogProcessor, but small losses print as 3.215e-05 instead of 0.0000.
log_processor = dict(type='SignificantDigitsLogProcessor', window_size=50, by_epoch=True)
# Stops training at the first NaN/inf loss term or gradient (naming the iteration and the term)
# before it reaches the weights or a checkpoint. Leaf configs that set custom_hooks keep it with
# custom_hooks = _base_.custom_hooks + [...].
custom_hooks = [dict(type='NonFiniteGuardHook')]

log_level = 'INFO'
load_from = None
resume = False
