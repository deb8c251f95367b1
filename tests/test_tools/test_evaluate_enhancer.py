"""tools/analysis/evaluate_enhancer.py: the semantic-fidelity column (KL of ImageNet classes)."""
import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest

from tests.conftest import REPO_ROOT, shared_path

TOOL = osp.join(REPO_ROOT, 'tools', 'analysis', 'evaluate_enhancer.py')


def load_tool():
    spec = importlib.util.spec_from_file_location('evaluate_enhancer', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_semantic_kl_is_zero_for_the_reference_and_grows_with_darkness(tmp_path):
    from skimage import data
    data_root = osp.dirname(shared_path('pretrained', 'mobilenetv1_x0.25_imagenet.tar'))
    tool = load_tool()
    classifier = tool.imagenet_classifier(osp.dirname(data_root))
    for kind in ('low', 'high'):
        (tmp_path / kind).mkdir()
    photo = cv2.resize(data.chelsea(), (160, 128))
    cv2.imwrite(str(tmp_path / 'high' / 'cat.png'), photo[..., ::-1])
    cv2.imwrite(str(tmp_path / 'low' / 'cat.png'), (photo // 12)[..., ::-1])
    root = str(tmp_path)
    high = cv2.imread(str(tmp_path / 'high' / 'cat.png'))[..., ::-1]
    assert tool.semantic_kl(lambda rgb: high, root, classifier) == pytest.approx(0, abs=1e-6)
    dark = tool.semantic_kl(lambda rgb: rgb, root, classifier)
    brightened = tool.semantic_kl(lambda rgb: np.clip(rgb.astype(int) * 12, 0, 255).astype(
        np.uint8), root, classifier)
    assert dark > 0.1 and brightened < dark
