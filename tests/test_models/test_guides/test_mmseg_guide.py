"""MMSegGuide: an mmseg segmentor (config + checkpoint) as the frozen semantic guide."""
import pytest
import torch

from mmlowlight.registry import MODELS

pytest.importorskip('mmseg.models', reason='mmseg (with mmcv ops) is not installed')

MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


def _segmentor_cfg(bgr_to_rgb=True):
    """A tiny EncoderDecoder (ResNet-18 + FCN head) with SyncBN, as in many mmseg configs."""
    norm_cfg = dict(type='SyncBN', requires_grad=True)
    return dict(
        type='EncoderDecoder',
        data_preprocessor=dict(type='SegDataPreProcessor', mean=MEAN, std=STD,
                               bgr_to_rgb=bgr_to_rgb, pad_val=0, seg_pad_val=255),
        backbone=dict(type='ResNetV1c', depth=18, out_indices=(3, ), norm_cfg=norm_cfg,
                      init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://resnet18_v1c')),
        decode_head=dict(type='FCNHead', in_channels=512, channels=16, num_convs=1,
                         num_classes=4, in_index=0, norm_cfg=norm_cfg,
                         loss_decode=dict(type='CrossEntropyLoss')),
        train_cfg=dict(), test_cfg=dict(mode='whole'))


def _expected_logits(guide, images, rgb):
    x = images if rgb else images.flip(1)
    x = (x * 255 - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
    return guide.segmentor.decode_head(guide.segmentor.extract_feat(x))


@pytest.mark.parametrize('bgr_to_rgb', [True, False])
def test_normalises_like_the_segmentor(bgr_to_rgb):
    torch.manual_seed(0)
    guide = MODELS.build(dict(type='mmlowlight.MMSegGuide',
                              config=dict(model=_segmentor_cfg(bgr_to_rgb)))).eval()
    assert not any('SyncBatchNorm' in type(m).__name__ for m in guide.modules())
    images = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        logits = guide(images)
        assert logits.shape == (2, 4, 2, 2)  # FCN logits at the backbone's stride 32
        assert torch.allclose(logits, _expected_logits(guide, images, bgr_to_rgb), atol=1e-5)


def test_checkpoint_is_loaded_and_kept_by_init_weights(tmp_path):
    torch.manual_seed(0)
    source = MODELS.build(dict(type='mmlowlight.MMSegGuide', config=_segmentor_cfg()))
    path = tmp_path / 'segmentor.pth'
    torch.save(dict(state_dict=source.segmentor.state_dict(), meta=dict(epoch=1)), path)
    torch.manual_seed(1)
    loss = MODELS.build(dict(
        type='mmlowlight.SemanticGuidanceLoss',
        guide=dict(type='MMSegGuide', config=_segmentor_cfg(), checkpoint=str(path))))
    loss.init_weights()  # must not re-initialise (nor download the backbone's Pretrained)
    for key, value in source.segmentor.state_dict().items():
        assert torch.equal(loss.guide.segmentor.state_dict()[key], value), key
    assert dict(loss.state_dict()) == {}
    images = torch.rand(1, 3, 32, 32, requires_grad=True)
    loss(images, images.detach(), images.detach()).backward()
    assert images.grad.abs().sum() > 0
    assert all(p.grad is None for p in loss.guide.parameters())


def test_config_without_model():
    with pytest.raises(ValueError, match='MMSegGuide: the config holds no model'):
        MODELS.build(dict(type='mmlowlight.MMSegGuide', config=dict(foo=1)))
