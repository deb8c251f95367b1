"""FPNSegmentationGuide: layout, torchvision key compatibility, init, normalisation, formats."""
import pytest
import torch
import torch.nn.functional as F

from mmlowlight.models.guides import TORCHVISION_RESNET50_URL, FPNSegmentationGuide
from mmlowlight.registry import MODELS


def _torchvision_resnet_keys(blocks=(3, 4, 6, 3), bottleneck=True):
    """State-dict keys of torchvision's ResNet (without ``fc``), written from its layout."""
    def bn(name):
        return [f'{name}.{t}' for t in ('weight', 'bias', 'running_mean', 'running_var')]

    keys = ['conv1.weight'] + bn('bn1')
    convs = 3 if bottleneck else 2
    for stage, count in enumerate(blocks, start=1):
        for block in range(count):
            prefix = f'layer{stage}.{block}'
            for i in range(1, convs + 1):
                keys += [f'{prefix}.conv{i}.weight'] + bn(f'{prefix}.bn{i}')
            if block == 0 and (bottleneck or stage > 1):
                keys += [f'{prefix}.downsample.0.weight'] + bn(f'{prefix}.downsample.1')
    return set(keys)


def test_default_is_resnet50_with_torchvision_keys():
    guide = FPNSegmentationGuide()
    keys = {k for k in guide.state_dict() if not k.endswith('num_batches_tracked')}
    backbone_keys = {k for k in keys if not k.startswith('top_down.')}
    assert backbone_keys == _torchvision_resnet_keys()
    assert guide.layer4[2].conv3.weight.shape == (2048, 512, 1, 1)
    assert guide.layer2[0].conv2.stride == (2, 2)  # torchvision: stride on the 3x3 conv
    assert guide.top_down.classifier.out_channels == 21
    assert guide.top_down.classifier.in_channels == 4 * 128
    assert [c.in_channels for c in guide.top_down.lateral_convs] == [256, 512, 1024, 2048]
    assert TORCHVISION_RESNET50_URL.startswith('https://download.pytorch.org/models/resnet50')


def test_resnet18_keys_and_output_shape():
    guide = FPNSegmentationGuide(depth=18, num_classes=5).eval()
    keys = {k for k in guide.state_dict()
            if not k.endswith('num_batches_tracked') and not k.startswith('top_down.')}
    assert keys == _torchvision_resnet_keys((2, 2, 2, 2), bottleneck=False)
    with torch.no_grad():
        assert guide(torch.rand(2, 3, 64, 64)).shape == (2, 5, 16, 16)
        assert guide(torch.rand(1, 3, 50, 70)).shape == (1, 5, 13, 18)


def test_forward_is_the_official_fpn_on_normalised_input():
    torch.manual_seed(0)
    guide = FPNSegmentationGuide(depth=18, num_classes=4, channels_last=False).eval()
    images = torch.rand(1, 3, 64, 96)
    x = (images - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor(
        [0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    td = guide.top_down
    with torch.no_grad():
        c2, c3, c4, c5 = guide.extract_features(x)
        p5 = td.lateral_convs[3](c5)
        p4 = F.interpolate(p5, size=c4.shape[-2:], mode='bilinear') + td.lateral_convs[2](c4)
        p3 = F.interpolate(p4, size=c3.shape[-2:], mode='bilinear') + td.lateral_convs[1](c3)
        p2 = F.interpolate(p3, size=c2.shape[-2:], mode='bilinear') + td.lateral_convs[0](c2)
        smoothed = [s[1](s[0](p)) for s, p in zip(td.smooth_convs, (p2, p3, p4, p5))]
        size = smoothed[0].shape[-2:]
        cat = torch.cat([F.interpolate(smoothed[3], size=size, mode='bilinear'),
                         F.interpolate(smoothed[2], size=size, mode='bilinear'),
                         F.interpolate(smoothed[1], size=size, mode='bilinear'), smoothed[0]], 1)
        expected = td.classifier(cat)
        assert torch.allclose(guide(images), expected, atol=1e-5)


def test_channels_last_gives_the_same_logits():
    torch.manual_seed(0)
    nchw = FPNSegmentationGuide(depth=18, channels_last=False).eval()
    nhwc = FPNSegmentationGuide(depth=18, channels_last=True).eval()
    nhwc.load_state_dict(nchw.state_dict())
    assert nhwc.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    images = torch.rand(2, 3, 48, 48)
    with torch.no_grad():
        assert torch.allclose(nchw(images), nhwc(images), atol=1e-4)


# NCHW for ResNet-50 keeps the test fast on a busy CPU (NHWC BatchNorm backward is slow there).
@pytest.mark.parametrize('depth,channels_last', [(18, True), (50, False)])
def test_folded_batchnorm_is_the_same_function(depth, channels_last):
    torch.manual_seed(0)
    plain = FPNSegmentationGuide(depth=depth, channels_last=channels_last,
                                 fold_batchnorm=False).eval()
    with torch.no_grad():
        for m in plain.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    folded = FPNSegmentationGuide(depth=depth, channels_last=channels_last,
                                  fold_batchnorm=True).eval()
    folded.load_state_dict(plain.state_dict())
    folded.requires_grad_(False)
    images = torch.rand(2, 3, 32, 32)
    outputs, grads = [], []
    for guide in (plain, folded):
        x = images.clone().requires_grad_(True)
        logits = guide(x)
        (logits * torch.linspace(-1, 1, logits.numel()).view_as(logits)).sum().backward()
        outputs.append(logits.detach())
        grads.append(x.grad)
    assert torch.allclose(outputs[0], outputs[1], rtol=1e-4, atol=1e-5)
    assert torch.allclose(grads[0], grads[1], rtol=1e-3, atol=1e-6)
    # In train mode BatchNorm runs with batch statistics (nothing to fold).
    folded.train()
    with torch.no_grad():
        folded(images)
    assert not torch.equal(folded.bn1.running_mean, plain.bn1.running_mean)


def test_pretrained_init_cfg_loads_torchvision_style_weights(tmp_path):
    torch.manual_seed(0)
    source = FPNSegmentationGuide(depth=18, channels_last=False)
    checkpoint = {k: torch.randn_like(v) if v.is_floating_point() else v
                  for k, v in source.state_dict().items() if not k.startswith('top_down.')}
    checkpoint['fc.weight'] = torch.randn(1000, 512)  # torchvision's classifier: ignored
    checkpoint['fc.bias'] = torch.randn(1000)
    path = tmp_path / 'resnet18_torchvision_style.pth'
    torch.save(checkpoint, path)
    guide = MODELS.build(dict(
        type='mmlowlight.FPNSegmentationGuide', depth=18,
        init_cfg=dict(type='Pretrained', checkpoint=str(path))))
    guide.init_weights()
    state = guide.state_dict()
    for key, value in checkpoint.items():
        if not key.startswith('fc.'):
            assert torch.equal(state[key], value), key
    # Top-down layers keep the paper's N(0, 0.01) init, biases 0.
    weights = torch.cat([m.weight.flatten() for m in guide.top_down.modules()
                         if isinstance(m, torch.nn.Conv2d)])
    assert weights.std().item() == pytest.approx(0.01, rel=0.05)
    assert guide.top_down.classifier.bias.abs().max().item() == 0


def test_bad_arguments():
    with pytest.raises(ValueError, match='depth'):
        FPNSegmentationGuide(depth=42)
    with pytest.raises(ValueError, match='RGB'):
        FPNSegmentationGuide(depth=18)(torch.rand(1, 1, 32, 32))
