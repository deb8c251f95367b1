import cv2
import numpy as np
import pytest
import torch

from mmlowlight.apis import FactorSmoother, enhance_video, mean_frame_change
from mmlowlight.models.enhancers import SGZEnhancer


@pytest.fixture(scope='module')
def model():
    torch.manual_seed(0)
    enhancer = SGZEnhancer(scale_factor=4).eval()
    with torch.no_grad():  # a factor map near tanh(-1): clearly brightening
        enhancer.efe.blocks[6].pointwise.bias.fill_(-1)
    return enhancer


def _write_video(path, frames, fps, fourcc='MJPG'):
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()


def _read_video(path):
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    return np.stack(frames), fps


def _dark_frames(count, height=24, width=40, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.integers(5, 50, (height, width, 3))
    return [np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8)
            for _ in range(count)]


@pytest.mark.parametrize('ext', ['mp4', 'avi', 'mov', 'mkv'])
def test_round_trip_keeps_count_size_fps(tmp_path, model, ext):
    src = tmp_path / 'in.avi'
    _write_video(src, _dark_frames(7), fps=12.5)
    summary = enhance_video(model, str(src), str(tmp_path / f'out.{ext}'), batch_size=3,
                            progress=False)
    frames, fps = _read_video(tmp_path / f'out.{ext}')
    assert (summary.frames, summary.width, summary.height) == (7, 40, 24)
    assert frames.shape == (7, 24, 40, 3) and fps == pytest.approx(12.5)
    inputs, _ = _read_video(src)
    assert frames.mean() > inputs.mean() + 5  # brightened
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(['in.avi', f'out.{ext}'])


def test_side_by_side_and_smoothing(tmp_path, model):
    src = tmp_path / 'in.avi'
    _write_video(src, _dark_frames(5), fps=10)
    summary = enhance_video(model, str(src), str(tmp_path / 'out.avi'), side_by_side=True,
                            temporal_smoothing=0.8, progress=False)
    frames, _ = _read_video(tmp_path / 'out.avi')
    assert summary.width == 80 and frames.shape == (5, 24, 80, 3)


def test_smoother_reduces_factor_flicker(model):
    x = torch.from_numpy(np.stack(_dark_frames(8))).permute(0, 3, 1, 2).float() / 255
    with torch.inference_mode():
        factor = model.estimate_factor(x)
        smoothed = FactorSmoother(0.8)(factor.clone())
    assert torch.equal(smoothed[0], factor[0])
    raw_change = mean_frame_change(factor.permute(0, 2, 3, 1).numpy())
    smooth_change = mean_frame_change(smoothed.permute(0, 2, 3, 1).numpy())
    assert raw_change > 0 and smooth_change < 0.5 * raw_change
    with pytest.raises(ValueError, match=r'\[0, 1\)'):
        FactorSmoother(1.0)


def test_smoothing_state_carries_across_batches(model):
    factor = torch.rand(6, 3, 4, 4)
    whole = FactorSmoother(0.5)(factor.clone())
    smoother = FactorSmoother(0.5)
    parts = torch.cat([smoother(factor[:4].clone()), smoother(factor[4:].clone())])
    torch.testing.assert_close(parts, whole)


def test_unreadable_video_named(tmp_path, model):
    bad = tmp_path / 'broken.mp4'
    bad.write_bytes(b'not a video')
    with pytest.raises(ValueError, match='broken.mp4'):
        enhance_video(model, str(bad), str(tmp_path / 'out.mp4'), progress=False)
    assert not (tmp_path / 'out.mp4').exists()
