"""Your model as the guide: MMDetGuide / MMSegGuide pseudo-label losses, the drift guard, and
their logging through ZeroShotEnhancer."""
import pytest
import torch
from mmengine.hub import get_config

from mmlowlight.models.enhancers import SGZEnhancer
from mmlowlight.registry import MODELS
from tests.test_models.test_guides.test_mmseg_guide import _segmentor_cfg

pytest.importorskip('mmdet.models')
pytest.importorskip('mmseg.models')


def tiny_detector_cfg():
    """mmdet's RetinaNet-R18-FPN at a sixteenth of its width (random init, no download)."""
    model = get_config('mmdet::retinanet/retinanet_r18_fpn_1x_coco.py').model
    model.backbone.update(base_channels=8, out_indices=(1, 2, 3), init_cfg=None)
    model.neck.update(in_channels=[16, 32, 64], out_channels=16, start_level=0,
                      add_extra_convs=False, num_outs=3)
    model.bbox_head.update(num_classes=3, in_channels=16, feat_channels=16, stacked_convs=1)
    model.bbox_head.anchor_generator.update(strides=[8, 16, 32])
    model.test_cfg.update(score_thr=0.0)
    return model.to_dict()


@pytest.fixture
def detector_checkpoint(tmp_path):
    torch.manual_seed(0)
    source = MODELS.build(dict(type='mmlowlight.MMDetGuide', config=tiny_detector_cfg()))
    path = str(tmp_path / 'detector.pth')
    torch.save(dict(state_dict=source.detector.state_dict(), meta=dict(epoch=1)), path)
    return path, source


def images(requires_grad=True):
    x = torch.rand(2, 3, 70, 90, generator=torch.Generator().manual_seed(0))
    return x.requires_grad_(requires_grad)


class TestMMDetGuide:

    def test_builds_with_a_local_checkpoint_and_stays_frozen(self, detector_checkpoint):
        path, source = detector_checkpoint
        loss = MODELS.build(dict(type='mmlowlight.PseudoLabelGuidanceLoss', score_threshold=0.05,
                                 guide=dict(type='MMDetGuide', config=tiny_detector_cfg(),
                                            checkpoint=path)))
        detector = loss.guide.detector
        for key, value in source.detector.state_dict().items():
            assert torch.equal(detector.state_dict()[key], value), key
        loss.train()
        assert not detector.training and not any(p.requires_grad for p in detector.parameters())
        assert not any(k.startswith('guide.') for k in loss.state_dict())  # not in checkpoints
        x = images()
        value = loss(x, x.detach(), torch.zeros_like(x))
        value.backward()
        assert torch.isfinite(value) and x.grad.abs().sum() > 0  # gradients reach the image
        assert all(p.grad is None for p in detector.parameters())
        assert loss.log_vars['guide_pseudo_labels'] > 0

    def test_no_confident_detection_is_a_finite_loss(self, detector_checkpoint):
        path, _ = detector_checkpoint
        guide = MODELS.build(dict(type='mmlowlight.MMDetGuide', config=tiny_detector_cfg(),
                                  checkpoint=path)).eval()
        x = images()
        value, stats = guide.pseudo_label_loss(x, 0.9999)
        assert stats == {'pseudo_labels': 0.0} and torch.isfinite(value)
        value.backward()  # background-only targets: still a signal (suppress false positives)


class TestMMSegGuidePseudoLabels:

    def test_confident_pixels_only(self):
        torch.manual_seed(0)
        guide = MODELS.build(dict(type='mmlowlight.MMSegGuide',
                                  config=dict(model=_segmentor_cfg()))).eval()
        x = images()
        value, stats = guide.pseudo_label_loss(x, 0.26)  # 4 classes: near-uniform logits
        assert 0 < stats['pseudo_labels'] <= 1 and torch.isfinite(value)
        value.backward()
        assert x.grad.abs().sum() > 0
        none, stats = guide.pseudo_label_loss(images(), 0.99)
        assert stats == {'pseudo_labels': 0.0} and float(none.detach()) == 0


def test_guide_without_pseudo_labels_is_refused():
    with pytest.raises(TypeError, match='pseudo_label_loss'):
        MODELS.build(dict(type='mmlowlight.PseudoLabelGuidanceLoss',
                          guide=torch.nn.Conv2d(3, 3, 1)))
    with pytest.raises(ValueError, match='score_threshold'):
        MODELS.build(dict(type='mmlowlight.PseudoLabelGuidanceLoss', score_threshold=1.0,
                          guide=dict(type='MMSegGuide', config=dict(model=_segmentor_cfg()))))


class TestOutputAnchorLoss:

    def test_free_within_the_margin_costly_beyond(self):
        loss = MODELS.build(dict(type='mmlowlight.OutputAnchorLoss', margin=0.05,
                                 loss_weight=1.0))
        x = torch.rand(1, 3, 40, 48) * 0.2
        with torch.no_grad():
            reference, factor = loss.guide(x)
        assert float(loss(reference, x, factor)) == 0
        assert float(loss(reference + 0.04, x, factor)) == 0
        assert float(loss(reference + 0.15, x, factor)) == pytest.approx(0.10, abs=1e-5)
        assert float(loss.log_vars['drift']) == pytest.approx(0.15, abs=1e-5)
        assert type(loss.guide.denoiser).__name__ == 'NoiseAdaptiveGuidedFilter'
        assert not any(k.startswith('guide.') for k in loss.state_dict())  # not in checkpoints
        with pytest.raises(ValueError, match='margin'):
            MODELS.build(dict(type='mmlowlight.OutputAnchorLoss', margin=-1))


def test_zero_shot_enhancer_logs_the_statistics_but_sums_only_losses():
    model = MODELS.build(dict(
        type='mmlowlight.ZeroShotEnhancer', enhancer=dict(type='SGZEnhancer', scale_factor=4),
        losses=[dict(type='ExposureRangeLoss'), dict(type='OutputAnchorLoss')]))
    assert isinstance(model.enhancer, SGZEnhancer) and model.enhancer_args['scale_factor'] == 4
    losses = model(torch.rand(2, 3, 32, 40) * 0.2, mode='loss')
    assert set(losses) == {'loss_exposure', 'loss_anchor', 'drift'}
    total, log_vars = model.parse_losses(losses)
    assert torch.allclose(total, losses['loss_exposure'] + losses['loss_anchor'])
    assert 'drift' in log_vars


def test_the_anchor_keeps_its_weights_through_init_weights():
    """The Runner calls init_weights on the whole model: the anchor must stay the starting
    enhancer (a redrawn anchor pulled the adapted enhancer towards a random one's output)."""
    from mmlowlight.apis import init_enhancer
    model = MODELS.build(dict(type='mmlowlight.ZeroShotEnhancer',
                              enhancer=dict(type='SGZEnhancer', scale_factor=12),
                              losses=[dict(type='OutputAnchorLoss')]))
    model.init_weights()
    reference = init_enhancer().state_dict()
    anchor = model.losses[0].guide.state_dict()
    assert all(torch.equal(anchor[k], reference[k]) for k in reference)
