# Nighttime Driving test (50 coarsely labelled night images, 1920x1080) as the val/test set of a
# model trained on Cityscapes (mmseg's NightDrivingDataset); same test pipeline as Dark Zurich.
_base_ = './dark_zurich.py'

val_dataloader = dict(
    dataset=dict(
        type='NightDrivingDataset',
        data_root='data/NighttimeDrivingTest/',
        data_prefix=dict(
            img_path='leftImg8bit/test/night',
            seg_map_path='gtCoarse_daytime_trainvaltest/test/night')))
test_dataloader = val_dataloader
