"""8-bit YUV 4:2:0 <-> RGB kernels: exact inverses (no brightness drift), swscale's matrices."""
import av
import numpy as np
import pytest
from av.video.reformatter import VideoReformatter

from mmlowlight.ops import rgb_to_yuv420, yuv420_to_rgb


def _smooth_image(height, width, seed=0):
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (height // 8 + 2, width // 8 + 2, 3)).astype(np.float32)
    ys = np.linspace(0, coarse.shape[0] - 1.001, height)
    xs = np.linspace(0, coarse.shape[1] - 1.001, width)
    rows = coarse[ys.astype(int)] * (1 - ys % 1)[:, None, None] + coarse[ys.astype(int) + 1] * (
        ys % 1)[:, None, None]
    image = rows[:, xs.astype(int)] * (1 - xs % 1)[None, :, None] + rows[:, xs.astype(int) + 1] * (
        xs % 1)[None, :, None]
    return image.round().astype(np.uint8)


def _planes(height, width):
    chroma = ((height + 1) // 2, (width + 1) // 2)
    return [np.empty((height, width), np.uint8), np.empty(chroma, np.uint8),
            np.empty(chroma, np.uint8)]


@pytest.mark.parametrize('height, width', [(48, 64), (35, 47), (1, 1), (2, 3)])
@pytest.mark.parametrize('colorspace, full_range', [(1, False), (2, True), (9, False)])
def test_round_trip_keeps_brightness(height, width, colorspace, full_range):
    rgb = _smooth_image(height, width)
    planes = _planes(height, width)
    rgb_to_yuv420(rgb, planes, colorspace, full_range)
    back = yuv420_to_rgb(planes, None, colorspace, full_range)
    assert back.shape == rgb.shape and back.dtype == np.uint8
    if height * width > 6:  # no drift (per pixel: what 4:2:0 chroma loses)
        assert abs(back.astype(float).mean() - rgb.mean()) < 0.2
        assert np.abs(back.astype(int) - rgb).mean() < 3
    flat = np.empty((height, width, 3), np.uint8)
    flat[...] = (200, 30, 90)  # one colour: chroma subsampling loses nothing
    rgb_to_yuv420(flat, planes, colorspace, full_range)
    assert np.abs(yuv420_to_rgb(planes, None, colorspace, full_range).astype(int) - flat).max() \
        <= 2
    grey = np.repeat(np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 4, 0), 3, 2)
    planes = _planes(4, 256)
    rgb_to_yuv420(grey, planes, colorspace, full_range)
    np.testing.assert_allclose(yuv420_to_rgb(planes, None, colorspace, full_range), grey,
                               atol=1)


@pytest.mark.parametrize('colorspace, full_range', [(1, False), (6, True)])
def test_same_matrices_as_swscale(colorspace, full_range):
    rgb = _smooth_image(64, 96, seed=1)
    planes = _planes(64, 96)
    rgb_to_yuv420(rgb, planes, colorspace, full_range)
    colour_range = 2 if full_range else 1
    frame = VideoReformatter().reformat(
        av.VideoFrame.from_ndarray(rgb, 'rgb24'), format='yuv420p', src_colorspace=colorspace,
        dst_colorspace=colorspace, src_color_range=colour_range, dst_color_range=colour_range)
    theirs = [np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, :p.width]
              for p in frame.planes]
    for ours, swscale in zip(planes, theirs):
        assert np.abs(ours.astype(int) - swscale).mean() < 1.0


def test_writes_into_padded_frame_planes():
    rgb = _smooth_image(20, 30)
    frame = av.VideoFrame(30, 20, 'yuv420p')
    planes = [np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, :p.width]
              for p in frame.planes]
    rgb_to_yuv420(rgb, planes, 1, False)
    contiguous = _planes(20, 30)
    rgb_to_yuv420(rgb, contiguous, 1, False)
    for a, b in zip(planes, contiguous):
        np.testing.assert_array_equal(a, b)
    out = np.zeros((20, 30, 3), np.uint8)
    assert yuv420_to_rgb(planes, out, 1, False) is out


def test_bad_arguments():
    with pytest.raises(ValueError, match='uint8 RGB'):
        rgb_to_yuv420(np.zeros((4, 4, 3), np.float32), _planes(4, 4))
    with pytest.raises(ValueError, match='do not fit'):
        rgb_to_yuv420(np.zeros((4, 4, 3), np.uint8), _planes(4, 6))
    with pytest.raises(ValueError, match='4:2:0'):
        yuv420_to_rgb(_planes(4, 6)[:1] + _planes(4, 4)[1:])
    with pytest.raises(ValueError, match='C-contiguous'):
        yuv420_to_rgb(_planes(4, 4), np.zeros((4, 5, 3), np.uint8))
