# Adapt the package's default enhancer to YOUR detector on YOUR unlabelled night images.
# No labels: the detector, trained for your classes (usually on daytime data) and kept frozen,
# labels the enhanced images with its own confident detections (score >= 0.5 after its NMS) and
# its own training loss on them trains the enhancer (PseudoLabelGuidanceLoss with MMDetGuide).
# The zero-reference losses of the default weights stay, and OutputAnchorLoss bounds how far
# the output may drift from the default enhancer's (beyond 0.05 per pixel every change costs),
# so that the enhancer cannot turn into a pattern that merely excites the detector.
#   python tools/train.py configs/sgz/sgz_adapt-to-detector_dsc-s12_adam-lr2e-5_bs8-512_100it_my-night-images.py \
#       --work-dir work_dirs/my_adapted_enhancer \
#       --cfg-options train_dataloader.dataset.data_root=/path/to/night_images \
#           model.losses.5.guide.config=/path/to/my_detector_config.py \
#           model.losses.5.guide.checkpoint=/path/to/my_detector.pth
# The log shows loss_guide and guide_pseudo_labels (pseudo boxes per image) next to the
# zero-reference losses and the drift. The checkpoint records the pipeline (exposure control,
# denoiser): use it frozen in front of the unchanged detector with
#   data_preprocessor=dict(type='mmlowlight.LowLightDetDataPreprocessor',
#                          enhancer_checkpoint='work_dirs/my_adapted_enhancer/iter_100.pth')
# Measured (synthetic night scenes, 3 seeds): docs/en/benchmarks.md.
_base_ = ['./sgz-noguide-finetune_default-weights_adam-lr1e-4_bs8-256_200it_my-images.py']

# The detector that guides (the config it was trained with and its weights): ours on ExDark
# by default, yours through --cfg-options as above.
detector_config = 'configs/det/retinanet_r50_fpn_1x_exdark.py'
detector_checkpoint = 'work_dirs/retinanet_r50_fpn_1x_exdark/epoch_12.pth'

# The exposure control's gradient knows that its scale undoes a uniformly weaker map: without
# it the zero-reference losses shrink the map unseen (measured, 100 iterations at lr 1e-4: the
# raw map's mean -0.128 -> -0.093, the output 0.417 -> 0.399; with it the output holds, 0.413),
# and a map shrunk far enough caps the scale on darker images.
model = dict(enhancer=dict(exposure_control=dict(scale_aware_grad=True)), losses=[
    dict(type='SpatialConsistencyLoss', loss_weight=1.0, patch_size=4),
    dict(type='ColorConstancyLoss', loss_weight=5.0),
    dict(type='ExposureRangeLoss', loss_weight=10.0, patch_size=16, low=0.2, high=0.9),
    dict(type='IlluminationSmoothnessLoss', loss_weight=1600.0),
    dict(type='OutputAnchorLoss', margin=0.05, loss_weight=10.0),
    dict(type='PseudoLabelGuidanceLoss', score_threshold=0.5, loss_weight=1.0,
         guide=dict(type='MMDetGuide', config=detector_config,
                    checkpoint=detector_checkpoint)),
])
# The detector sees whole objects at its own scale: larger crops than the default recipe's.
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='PairedRandomCrop', crop_size=512),
    dict(type='PairedRandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackEnhanceInputs'),
]))
custom_hooks = [dict(type='NonFiniteGuardHook'), dict(type='EnhancerPipelineHook')]
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=50))
# Gentle: the default weights already need most of the exposure control's headroom on very dark
# scenes, and faster steps darkened the output within 100 iterations (docs/en/benchmarks.md).
optim_wrapper = dict(optimizer=dict(lr=2e-5))
train_cfg = dict(max_iters=100, val_interval=100)
