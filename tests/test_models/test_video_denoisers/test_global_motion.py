"""estimate_translation and shift_plane_: known shifts recovered on dark noisy texture, static
and too-small frames left alone, a large moving object not taken for the camera, arguments."""
import numpy as np
import pytest

from mmlowlight.models.video_denoisers.global_motion import estimate_translation, shift_plane_


def _texture(height=160, width=224, seed=0):
    """Fine random texture (a few grey levels, like a dark frame's) on a smooth ramp."""
    rng = np.random.default_rng(seed)
    fine = rng.normal(0, 4, (height + 64, width + 64)).astype(np.float32)
    ramp = np.linspace(20, 40, width + 64, dtype=np.float32)[None]
    return fine + ramp


def _crop(scene, dy, dx, height=160, width=224):
    """The view of a camera moved by (-dy, -dx): content appears shifted by (dy, dx)."""
    return scene[32 - dy:32 - dy + height, 32 - dx:32 - dx + width]


@pytest.mark.parametrize('dy, dx', [(0, 3), (-2, 0), (4, -5), (1, 1)])
def test_recovers_a_camera_shift_under_noise(dy, dx):
    scene = _texture()
    rng = np.random.default_rng(1)
    reference = _crop(scene, 0, 0)
    current = _crop(scene, dy, dx) + rng.normal(0, 3, reference.shape).astype(np.float32)
    got = estimate_translation(reference, current)
    # Within a pixel: the correlation peak's sub-pixel position at half scale. A pixel left
    # over is measured again at the next frame (the reference is the filter's own state).
    assert got is not None and abs(got[0] - dy) <= 1 and abs(got[1] - dx) <= 1


def test_static_noisy_frame_gives_none():
    scene = _texture()
    rng = np.random.default_rng(2)
    reference = _crop(scene, 0, 0)
    for _ in range(5):
        current = reference + rng.normal(0, 4, reference.shape).astype(np.float32)
        assert estimate_translation(reference, current) is None


def test_large_moving_object_is_not_the_camera():
    """A block covering a third of a static frame moves by 6 px: the background stays put."""
    scene = _texture()
    rng = np.random.default_rng(3)
    reference = _crop(scene, 0, 0).copy()
    current = reference + rng.normal(0, 3, reference.shape).astype(np.float32)
    block = rng.normal(120, 30, (100, 80)).astype(np.float32)
    reference[30:130, 40:120] = block
    current[30:130, 46:126] = block
    assert estimate_translation(reference, current) is None


def test_small_frames_and_bad_shapes():
    assert estimate_translation(np.zeros((20, 20), np.float32),
                                np.ones((20, 20), np.uint8)) is None
    with pytest.raises(ValueError, match=r'\(40, 40\) and \(40, 41\)'):
        estimate_translation(np.zeros((40, 40)), np.zeros((40, 41)))
    with pytest.raises(ValueError, match='2-D'):
        estimate_translation(np.zeros((40, 40, 3)), np.zeros((40, 40, 3)))


def test_shift_plane_moves_content_and_fills_the_new_border():
    plane = np.arange(20, dtype=np.float32).reshape(4, 5)
    fill = np.full((4, 5), 200, np.uint8)  # e.g. the new frame's plane
    shifted = plane.copy()
    shift_plane_(shifted, 1, -2, fill)
    assert shifted.dtype == np.float32
    np.testing.assert_array_equal(shifted[1:, :3], plane[:3, 2:])
    assert (shifted[0] == 200).all() and (shifted[:, 3:] == 200).all()
    counts = np.full((4, 5), 7, np.float32)
    shift_plane_(counts, 0, 9, None)  # beyond the width: everything restarts
    assert (counts == 1).all()
