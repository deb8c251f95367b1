# LOL (Wei et al., BMVC 2018): zero-reference training on the low-light images of the training
# split (our485/low; the references are not used), paired validation on eval15 (low + high,
# matched by file name) with PSNR and SSIM on 8-bit outputs. Layout under data/LOL/:
#   our485/{low,high}/*.png   eval15/{low,high}/*.png
_base_ = ['./unpaired_lowlight.py']

train_dataloader = dict(dataset=dict(data_root='data/LOL', data_prefix=dict(img_path='our485/low')))

paired_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadReferenceImage'),
    dict(type='PackEnhanceInputs'),
]
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='PairedImageDataset',
        data_root='data/LOL/eval15',
        data_prefix=dict(img_path='low', gt_img_path='high'),
        pipeline=paired_test_pipeline,
        test_mode=True))
test_dataloader = val_dataloader

val_evaluator = [
    dict(type='PSNR'),
    dict(type='SSIM'),
    dict(type='NoReferenceStatistics', patch_size=16, well_exposed_level=0.6),
]
test_evaluator = val_evaluator
