# The official SGZ recipe: DSC enhancer, all five losses (semantic guide from ImageNet ResNet-50),
# Adam lr 1e-4 / weight decay 1e-4, grad-norm clip 0.1, batch 6 of 512x512 images, 100 epochs.
# Trains on every image under data/unpaired/ (sub-folders included) and reports no-reference
# statistics on data/lol15/low/. Needs a GPU for a reasonable time and internet access once for
# the ResNet-50 weights. Other folders:
#   python tools/train.py configs/sgz/sgz_dsc_adam-lr1e-4_bs6-512_100e_unpaired.py \
#       --cfg-options train_dataloader.dataset.data_root=MY_DARK_IMAGES \
#                     val_dataloader.dataset.data_root=MY_VAL_IMAGES \
#                     test_dataloader.dataset.data_root=MY_VAL_IMAGES
_base_ = [
    '../_base_/models/sgz.py', '../_base_/datasets/unpaired_lowlight.py',
    '../_base_/schedules/adam-lr1e-4_100e.py', '../_base_/default_runtime.py'
]
