"""MobileNetV1 guide backbone: layout, strides, BN folding, ImageNet weights, freezing."""
import pytest
import torch
import torch.nn.functional as F

from mmlowlight.models import ZeroShotEnhancer
from mmlowlight.models.guides import FPNSegmentationGuide, MobileNetV1, MobileNetV1DenseClassifier
from mmlowlight.models.guides.mobilenet_v1 import OUT_CHANNELS
from mmlowlight.registry import MODELS
from mmlowlight.utils import load_checkpoint_file
from tests.conftest import shared_path

CHECKPOINT = ('pretrained', 'mobilenetv1_x0.25_imagenet.tar')
CAT_CLASSES = range(281, 286)  # ImageNet: tabby, tiger cat, Persian, Siamese, Egyptian cat


def _checkpoint_state():
    return load_checkpoint_file(shared_path(*CHECKPOINT))['state_dict']


def _randomise_batchnorm(module):
    """Non-trivial running statistics and affine parameters, so that folding is observable."""
    torch.manual_seed(0)
    with torch.no_grad():
        for bn in (m for m in module.modules() if isinstance(m, torch.nn.BatchNorm2d)):
            bn.running_mean.uniform_(-0.3, 0.3)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
    return module


def _pretrained_guide():
    guide = FPNSegmentationGuide(backbone=dict(
        type='MobileNetV1', init_cfg=dict(type='Pretrained',
                                          checkpoint=shared_path(*CHECKPOINT))))
    guide.init_weights()
    return guide.eval()


def test_registered_and_layout():
    backbone = MODELS.build(dict(type='MobileNetV1', _scope_='mmlowlight'))
    assert isinstance(backbone, MobileNetV1) and backbone.out_channels == (32, 64, 128, 256)
    assert backbone.stage1[0][0].weight.shape == (8, 3, 3, 3)  # conv_bn 3 -> 8, stride 2
    assert backbone.stage1[1][0].groups == 8 and backbone.stage1[1][3].weight.shape == (16, 8,
                                                                                        1, 1)
    assert backbone.stage3[1][3].weight.shape == (256, 256, 1, 1)
    assert isinstance(backbone.stage2[0][2], torch.nn.LeakyReLU)
    assert backbone.stage2[0][2].negative_slope == 0.1
    assert all(m.bias is None for m in backbone.modules() if isinstance(m, torch.nn.Conv2d))


def test_keys_are_the_checkpoints_without_module_prefix_and_classifier():
    expected = {k[len('module.'):] for k in _checkpoint_state() if not k.startswith('module.fc.')}
    assert set(MobileNetV1().state_dict()) == expected
    shapes = {k[len('module.'):]: v.shape for k, v in _checkpoint_state().items()}
    assert all(v.shape == shapes[k] for k, v in MobileNetV1().state_dict().items())


@pytest.mark.parametrize('size', [(64, 64), (50, 70)])
def test_four_levels_at_strides_4_to_32(size):
    backbone = MobileNetV1().eval()
    with torch.no_grad():
        features = backbone(torch.randn(2, 3, *size))
    for feature, channels, stride in zip(features, OUT_CHANNELS, (4, 8, 16, 32)):
        assert feature.shape == (2, channels, -(-size[0] // stride), -(-size[1] // stride))


def test_folded_batchnorm_is_the_same_function_and_leaves_the_weights_alone():
    backbone = _randomise_batchnorm(MobileNetV1()).eval()
    before = {k: v.clone() for k, v in backbone.state_dict().items()}
    x = torch.randn(2, 3, 48, 40)
    with torch.no_grad():
        folded = backbone(x)
        backbone.fold_batchnorm = False
        plain = backbone(x)
    for a, b in zip(folded, plain):
        assert torch.allclose(a, b, atol=1e-4, rtol=1e-4)
    assert all(torch.equal(before[k], v) for k, v in backbone.state_dict().items())


def test_train_mode_runs_batchnorm_on_batch_statistics():
    backbone = _randomise_batchnorm(MobileNetV1())
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        train_out = backbone.train()(x)[3]
        eval_out = backbone.eval()(x)[3]
    assert not torch.allclose(train_out, eval_out, atol=1e-3)


def test_bad_input_shape():
    with pytest.raises(ValueError, match=r'\(1, 1, 32, 32\)'):
        MobileNetV1()(torch.rand(1, 1, 32, 32))


def test_fpn_guide_with_mobilenet_backbone():
    guide = FPNSegmentationGuide(num_classes=5, channels=32, smooth_channels=16,
                                 backbone=dict(type='MobileNetV1')).eval()
    assert [c.in_channels for c in guide.top_down.lateral_convs] == list(OUT_CHANNELS)
    assert not hasattr(guide, 'layer1')  # no ResNet built beside it
    with torch.no_grad():
        assert guide(torch.rand(2, 3, 64, 64)).shape == (2, 5, 16, 16)
        assert guide(torch.rand(1, 3, 50, 70)).shape == (1, 5, 13, 18)
    guide.fold_batchnorm = False
    assert guide.backbone.fold_batchnorm is False


def test_fpn_guide_channels_last_and_folding_give_the_same_logits():
    torch.manual_seed(0)
    kwargs = dict(num_classes=4, channels=32, smooth_channels=16)
    nchw = FPNSegmentationGuide(channels_last=False, fold_batchnorm=False,
                                backbone=dict(type='MobileNetV1'), **kwargs)
    _randomise_batchnorm(nchw).eval()
    nhwc = FPNSegmentationGuide(backbone=dict(type='MobileNetV1'), **kwargs).eval()
    nhwc.load_state_dict(nchw.state_dict())
    assert nhwc.backbone.stage1[0][0].weight.is_contiguous(memory_format=torch.channels_last)
    images = torch.rand(2, 3, 48, 48)
    with torch.no_grad():
        assert torch.allclose(nchw(images), nhwc(images), atol=1e-4)


def test_pretrained_init_loads_the_checkpoint():
    guide = _pretrained_guide()
    state = _checkpoint_state()
    for key, value in guide.backbone.state_dict().items():
        assert torch.equal(value, state['module.' + key]), key


def test_pretrained_guide_classifies_chelsea_as_a_cat():
    """The loaded backbone + the checkpoint's own classifier (avg pool, fc) see a cat."""
    skimage_data = pytest.importorskip('skimage.data')
    guide = _pretrained_guide()
    state = _checkpoint_state()
    image = torch.from_numpy(skimage_data.chelsea()).permute(2, 0, 1)[None].float() / 255
    image = F.interpolate(image, size=(224, 224), mode='bilinear', antialias=True)
    with torch.no_grad():
        c5 = guide.extract_features((image - guide.mean) / guide.std)[3]
        logits = F.linear(c5.mean((2, 3)), state['module.fc.weight'], state['module.fc.bias'])
    assert logits.argmax(1).item() in CAT_CLASSES, logits.topk(5).indices.tolist()


def test_gradients_reach_the_enhancer_and_not_the_guide():
    model = ZeroShotEnhancer(
        enhancer=dict(type='SGZEnhancer', scale_factor=4),
        losses=[dict(type='SemanticGuidanceLoss', guide=dict(
            type='FPNSegmentationGuide', channels=32, smooth_channels=16,
            backbone=dict(type='MobileNetV1')))],
        data_preprocessor=dict(type='mmlowlight.EnhanceDataPreprocessor', bgr_to_rgb=False))
    model.init_weights()
    model.train()
    guide = model.losses[0].guide
    assert not guide.training and not guide.backbone.training  # locked in eval mode
    running_before = guide.backbone.stage1[0][1].running_mean.clone()
    loss = model(torch.rand(2, 3, 64, 64) * 0.3, mode='loss')['loss_semantic']
    loss.backward()
    assert torch.isfinite(loss)
    enhancer_grads = [p.grad for p in model.enhancer.parameters()]
    assert all(g is not None for g in enhancer_grads)
    assert sum(g.abs().sum() for g in enhancer_grads) > 0
    assert all(not p.requires_grad and p.grad is None for p in guide.parameters())
    assert torch.equal(guide.backbone.stage1[0][1].running_mean, running_before)


def test_dense_classifier_loads_every_key_and_its_mean_is_the_classifier():
    guide = MODELS.build(dict(
        type='MobileNetV1DenseClassifier', _scope_='mmlowlight',
        init_cfg=dict(type='Pretrained', checkpoint=shared_path(*CHECKPOINT))))
    guide.init_weights()
    guide.eval()
    state = _checkpoint_state()
    assert set(guide.state_dict()) == {k[len('module.'):] for k in state}
    skimage_data = pytest.importorskip('skimage.data')
    image = torch.from_numpy(skimage_data.chelsea()).permute(2, 0, 1)[None].float() / 255
    image = F.interpolate(image, size=(224, 224), mode='bilinear', antialias=True)
    with torch.no_grad():
        dense = guide(image)
    assert dense.shape == (1, 1000, 7, 7)
    assert dense.mean((2, 3)).argmax(1).item() in CAT_CLASSES


def test_dense_classifier_shapes_and_errors():
    guide = MobileNetV1DenseClassifier(num_classes=7).eval()
    with torch.no_grad():
        assert guide(torch.rand(2, 3, 70, 50)).shape == (2, 7, 3, 2)
    with pytest.raises(ValueError, match='mean and std'):
        MobileNetV1DenseClassifier(mean=(0.5, 0.5))
