# faster-rcnn_r50_fpn_1x_exdark.py with a frozen SGZ enhancer in front
# (the package's default weights).
_base_ = ['./faster-rcnn_r50_fpn_1x_exdark.py', '../_base_/models/sgz_preprocessors.py']

custom_imports = dict(imports=['mmlowlight'], allow_failed_imports=False)
model = dict(data_preprocessor=_base_.sgz_det_frozen)
