# SGZ as the preprocessing module of an mmdet detector or mmseg segmentor. Leaf configs inherit
# this file next to their baseline and write e.g.
#     model = dict(data_preprocessor=_base_.sgz_det_frozen)
# The dict merges into the baseline's data_preprocessor: its mean/std/bgr_to_rgb/padding stay.
# enhancer_checkpoint=None loads the package's default weights (mmlowlight/weights/sgz_default.pth);
# a path loads ours or the official Epoch99.pth instead; False starts from random weights.
# The enhancer is the pipeline the checkpoint records (the default weights: EFE at scale 12,
# CurveExposureControl, NoiseAdaptiveGuidedFilter; the official weights: the bare network at
# scale 12), so a detector gets exactly what `enhance(init_enhancer(), img)` gives. Keys set here
# override the recorded ones: dict(type='mmlowlight.SGZEnhancer', scale_factor=4) changes only
# the scale; denoiser=None / exposure_control=None turn a stage off.
sgz_enhancer = dict(type='mmlowlight.SGZEnhancer')
# Joint training: the zero-reference losses the default weights were trained with keep the
# enhancer an enhancer while the task loss adapts it; merged into the task losses by
# mmlowlight.AuxLossHook, which also records the pipeline in the checkpoints' meta. The one-sided
# ExposureRangeLoss, not Zero-DCE's fixed-level ExposureLoss: the exposure control sets each
# image's level (see docs/en/benchmarks.md for the measurement).
sgz_aux_losses = [
    dict(type='mmlowlight.SpatialConsistencyLoss', loss_weight=1.0),
    dict(type='mmlowlight.ColorConstancyLoss', loss_weight=5.0),
    dict(type='mmlowlight.ExposureRangeLoss', loss_weight=10.0, patch_size=16, low=0.2,
         high=0.9),
    dict(type='mmlowlight.IlluminationSmoothnessLoss', loss_weight=1600.0),
]
sgz_det_frozen = dict(
    type='mmlowlight.LowLightDetDataPreprocessor',
    enhancer=sgz_enhancer,
    enhancer_checkpoint=None,
    freeze=True)
sgz_det_joint = dict(
    type='mmlowlight.LowLightDetDataPreprocessor',
    enhancer=sgz_enhancer,
    enhancer_checkpoint=None,
    freeze=False,
    aux_losses=sgz_aux_losses)
sgz_seg_frozen = dict(sgz_det_frozen, type='mmlowlight.LowLightSegDataPreProcessor')
sgz_seg_joint = dict(sgz_det_joint, type='mmlowlight.LowLightSegDataPreProcessor')
# Stops a run at the first NaN/inf loss term or gradient, before it reaches the weights or a
# checkpoint (naming the iteration and the term); the joint configs list it in custom_hooks.
sgz_non_finite_guard = dict(type='mmlowlight.NonFiniteGuardHook')
