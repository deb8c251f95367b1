# retinanet_r50_fpn_1x_exdark.py with an SGZ enhancer in front, trained jointly with the
# detector (from the package's default weights) under the detection loss plus SGZ's
# zero-reference losses.
_base_ = ['./retinanet_r50_fpn_1x_exdark.py', '../_base_/models/sgz_preprocessors.py']

custom_imports = dict(imports=['mmlowlight'], allow_failed_imports=False)
model = dict(data_preprocessor=_base_.sgz_det_joint)
custom_hooks = [dict(type='mmlowlight.AuxLossHook'), _base_.sgz_non_finite_guard]
