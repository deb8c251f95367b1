"""The SGZ preprocessors in mmdet's inference_detector, mmseg's inference_model and mmdet TTA."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import MODELS

from tests.conftest import REPO_ROOT

DET_CONFIG = osp.join(REPO_ROOT, 'configs', 'det', 'retinanet_r50_fpn_sgz-frozen_1x_exdark.py')
SEG_CONFIG = osp.join(REPO_ROOT, 'configs', 'seg',
                      'deeplabv3plus_r50-d8_sgz-frozen_4xb2-40k_acdc-night-512x1024.py')


def count_enhancer_calls(model):
    calls = []
    model.data_preprocessor.enhancer.register_forward_hook(
        lambda module, args, output: calls.append(tuple(args[0].shape)))
    return calls


def small_det_config():
    """The shipped config with ResNet-18 and 64-pixel images (random weights)."""
    cfg = Config.fromfile(DET_CONFIG)
    cfg.model.backbone.update(depth=18, init_cfg=None)
    cfg.model.neck.in_channels = [64, 128, 256, 512]
    cfg.model.data_preprocessor.enhancer_checkpoint = False
    cfg.test_dataloader.dataset.pipeline[1].scale = (96, 64)
    return cfg


def test_inference_detector_runs_the_enhancer():
    apis = pytest.importorskip('mmdet.apis')
    model = apis.init_detector(small_det_config(), device='cpu')
    calls = count_enhancer_calls(model)
    image = np.random.default_rng(0).integers(0, 40, (48, 80, 3), dtype=np.uint8)
    result = apis.inference_detector(model, image)
    # Resized to 48x80 -> 58x96 (keep ratio); padded to 64x96; the enhancer sees the image only.
    assert calls == [(1, 3, 58, 96)]
    assert 'pred_instances' in result


def test_det_tta_runs_the_enhancer_per_view():
    pytest.importorskip('mmdet.models')
    from mmdet.structures import DetDataSample
    from mmengine.registry import init_default_scope

    cfg = small_det_config()
    init_default_scope('mmdet')
    detector = MODELS.build(cfg.model).eval()
    tta = MODELS.build(dict(type='DetTTAModel', module=detector,
                            tta_cfg=ConfigDict(nms=dict(type='nms', iou_threshold=0.5),
                                               max_per_img=10)))
    calls = count_enhancer_calls(detector)
    image = torch.randint(0, 40, (3, 64, 64), dtype=torch.uint8)
    views = [
        DetDataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64),
                                    scale_factor=(1., 1.), flip=flip,
                                    flip_direction='horizontal' if flip else None))
        for flip in (False, True)
    ]
    with torch.no_grad():
        results = tta.test_step(dict(inputs=[[image], [image.flip(-1)]],
                                     data_samples=[[views[0]], [views[1]]]))
    assert len(calls) == 2 and len(results) == 1


def test_inference_model_runs_the_enhancer():
    apis = pytest.importorskip('mmseg.apis')
    cfg = Config.fromfile(SEG_CONFIG)
    cfg.model.backbone.depth = 18
    cfg.model.decode_head.update(in_channels=512, channels=32, c1_in_channels=64, c1_channels=8)
    cfg.model.auxiliary_head.update(in_channels=256, channels=16)
    cfg.model.data_preprocessor.enhancer_checkpoint = False
    cfg.test_pipeline[1].scale = (96, 64)
    model = apis.init_model(cfg, device='cpu')
    calls = count_enhancer_calls(model)
    image = np.random.default_rng(0).integers(0, 40, (48, 80, 3), dtype=np.uint8)
    result = apis.inference_model(model, image)
    assert calls == [(1, 3, 58, 96)]
    assert result.pred_sem_seg.data.shape[-2:] == (48, 80)
