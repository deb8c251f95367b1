"""ModelConfidence: detection and segmentation samples (dicts and data elements), empty
predictions, known values, the registry and a clear error for other outputs."""
import pytest
import torch
from mmengine.structures import BaseDataElement, InstanceData, PixelData

from mmlowlight.evaluation import ModelConfidence
from mmlowlight.registry import METRICS


def test_detection_takes_each_image_s_best_box_and_averages():
    metric = ModelConfidence()
    metric.process(None, [
        dict(pred_instances=dict(scores=torch.tensor([0.2, 0.9, 0.5]))),
        dict(pred_instances=dict(scores=torch.tensor([]))),  # nothing found: 0
    ])
    sample = BaseDataElement(pred_instances=InstanceData(scores=torch.tensor([0.4])))
    metric.process(None, [sample])
    assert metric.compute_metrics(metric.results) == dict(confidence=pytest.approx(1.3 / 3))


def test_segmentation_mean_largest_class_probability():
    logits = torch.zeros(2, 4, 4)
    logits[0, :2] = 10.0  # top half sure of class 0, bottom half split evenly
    want = (8 * torch.tensor([10.0, 0.0]).softmax(0)[0] + 8 * 0.5) / 16
    got = ModelConfidence().image_confidence(dict(seg_logits=dict(data=logits)))
    assert got == pytest.approx(float(want))
    element = BaseDataElement(seg_logits=PixelData(data=logits))
    assert ModelConfidence().image_confidence(element) == pytest.approx(float(want))
    # One channel: a sigmoid, sure either way.
    single = torch.full((1, 2, 2), -10.0)
    assert ModelConfidence().image_confidence(dict(seg_logits=dict(data=single))) > 0.99


def test_segmentation_over_the_object_pixels():
    logits = torch.zeros(3, 4, 4)
    logits[0] = 10.0  # background, sure
    logits[1, 0, :2] = 20.0  # two pixels of class 1, sure
    logits[2, 3, 0] = 10.0  # one pixel split between class 0 and 2
    metric = ModelConfidence(background_index=0)
    sure = float(torch.tensor([10.0, 20.0, 0.0]).softmax(0).max())
    # argmax of a tie picks the first: the split pixel counts as background ...
    assert metric.image_confidence(dict(seg_logits=dict(data=logits))) == pytest.approx(sure)
    logits[2, 3, 0] = 10.5  # ... unless class 2 leads
    split = float(torch.tensor([10.0, 0.0, 10.5]).softmax(0).max())
    got = metric.image_confidence(dict(seg_logits=dict(data=logits)))
    assert got == pytest.approx((2 * sure + split) / 3)
    # Every pixel background: nothing found, 0 (as a detector without boxes).
    assert metric.image_confidence(dict(seg_logits=dict(data=torch.zeros(3, 2, 2)))) == 0
    # One channel: the pixels above 0.5 are the objects.
    single = torch.full((1, 2, 2), -10.0)
    single[0, 0, 0] = 3.0
    assert metric.image_confidence(dict(seg_logits=dict(data=single))) == pytest.approx(
        float(torch.tensor(3.0).sigmoid()))
    assert ModelConfidence().image_confidence(dict(seg_logits=dict(data=logits))) > got


def test_built_from_the_registry_and_errors():
    metric = METRICS.build(dict(type='ModelConfidence', background_index=0))
    assert isinstance(metric, ModelConfidence) and metric.background_index == 0
    for bad in (-1, 0.5, '0'):
        with pytest.raises(ValueError, match='background_index'):
            ModelConfidence(background_index=bad)
    with pytest.raises(ValueError, match='a.png.*detector or a segmentor'):
        ModelConfidence().image_confidence(dict(img_path='a.png', pred_img=torch.zeros(3, 2, 2)))
    with pytest.raises(ValueError, match=r'\(C, H, W\)'):
        ModelConfidence().image_confidence(dict(seg_logits=dict(data=torch.zeros(4, 4))))
