# ACDC night (Cityscapes' 19 train classes; 400 train / 106 val images at 1920x1080).
# Layout under data/acdc/: rgb_anon/night/{train,val}/GOPRxxxx/*_rgb_anon.png and
# gt/night/{train,val}/GOPRxxxx/*_gt_labelTrainIds.png (as downloaded from acdc.vision.ee.ethz.ch).
# The dataset is mmlowlight's (mmseg has none); the prefix makes it resolve from mmseg's scope.
_base_ = 'mmseg::_base_/datasets/cityscapes.py'

custom_imports = dict(imports=['mmlowlight'], allow_failed_imports=False)
dataset_type = 'mmlowlight.ACDCNightDataset'
data_root = 'data/acdc/'

train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='rgb_anon/night/train', seg_map_path='gt/night/train')))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='rgb_anon/night/val', seg_map_path='gt/night/val')))
test_dataloader = val_dataloader
