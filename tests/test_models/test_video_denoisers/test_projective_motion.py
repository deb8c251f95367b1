"""estimate_homography and warp_state_: a forward drive (zoom) and a roll measured on dark noisy
texture, static scenes and plain translations left to others, the state warped with fresh pixels
where the motion brings them in."""
import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmlowlight.models.video_denoisers.projective_motion import estimate_homography, warp_state_


def _texture(height, width, seed=0, level=40.0, contrast=12.0):
    """Smooth random texture (structures of a few pixels), float32 grey levels."""
    rng = np.random.default_rng(seed)
    noise = torch.from_numpy(rng.normal(0, 1, (1, 1, height, width)).astype(np.float32))
    grain = F.avg_pool2d(noise, 5, 1, 2)[0, 0].numpy()
    return (level + contrast * grain / grain.std()).astype(np.float32)


def _moved(plane, angle, magnification):
    """``plane`` seen by a camera rolled by ``angle`` degrees and magnified about the centre.
    Returns the new view and the 2 x 3 map from its pixels to ``plane``'s."""
    height, width = plane.shape
    to_new = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), angle, magnification)
    view = cv2.warpAffine(plane, to_new, (width, height), flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REFLECT)
    return view, cv2.invertAffineTransform(to_new)


@pytest.mark.parametrize('angle, magnification', [(0, 1.02), (1.0, 1.0), (0.5, 1.01)])
def test_zoom_and_roll_are_measured_under_noise(angle, magnification):
    reference = _texture(240, 320)
    view, to_reference = _moved(reference, angle, magnification)
    rng = np.random.default_rng(1)
    current = (view + rng.normal(0, 3, view.shape)).astype(np.float32)
    homography = estimate_homography(reference, current)
    assert homography is not None and homography.shape == (3, 3)
    # Where the pixels of the new view were, against the truth, over the frame.
    ys, xs = np.mgrid[0:240:8, 0:320:8]
    points = np.stack([xs, ys], -1).reshape(1, -1, 2).astype(np.float32)
    got = cv2.perspectiveTransform(points, homography)[0]
    want = cv2.transform(points, to_reference)[0]
    moved_by = np.hypot(*(want - points[0]).T)
    assert moved_by.max() > 2.0  # a motion worth following
    assert np.median(np.hypot(*(got - want).T)) < 0.25
    assert np.hypot(*(got - want).T).max() < 1.0


def test_static_scene_and_translation_give_none():
    reference = _texture(240, 320)
    rng = np.random.default_rng(2)
    static = reference + rng.normal(0, 3, reference.shape).astype(np.float32)
    assert estimate_homography(reference, static) is None
    # A plain shift is global_motion.estimate_translation's to measure.
    shifted = np.roll(reference, 3, axis=1) + rng.normal(0, 3, reference.shape).astype(
        np.float32)
    assert estimate_homography(reference, shifted) is None


def test_small_frames_and_bad_shapes():
    assert estimate_homography(np.zeros((20, 20), np.float32),
                               np.zeros((20, 20), np.float32)) is None
    with pytest.raises(ValueError, match='2-D planes of one size'):
        estimate_homography(np.zeros((40, 40)), np.zeros((40, 41)))
    with pytest.raises(ValueError, match='2-D planes of one size'):
        estimate_homography(np.zeros((40, 40, 3)), np.zeros((40, 40, 3)))


def test_warp_state_moves_means_and_counts_with_fresh_border():
    height, width = 40, 60
    luma = _texture(height, width)
    chroma = _texture(height // 2, width // 2, seed=3, level=128)
    means = [luma.copy(), chroma.copy(), chroma + 5]
    counts = [np.full((height, width), 6, np.float32),
              np.full((height // 2, width // 2), 6, np.float32)]
    frame = [np.full((height, width), 200, np.uint8),
             np.full((height // 2, width // 2), 90, np.uint8),
             np.full((height // 2, width // 2), 91, np.uint8)]
    # Every pixel shows what was 4 luma pixels to its right: 2 chroma pixels.
    warp_state_(means, counts, np.array([[1.0, 0, 4], [0, 1, 0], [0, 0, 1]]), frame)
    np.testing.assert_allclose(means[0][:, :-4], luma[:, 4:], atol=1e-3)
    np.testing.assert_allclose(means[1][:, :-2], chroma[:, 2:], atol=1e-3)
    np.testing.assert_allclose(means[2][:, :-2], chroma[:, 2:] + 5, atol=1e-3)
    assert (counts[0][:, :-4] == 6).all() and (counts[1][:, :-2] == 6).all()
    # The columns the motion brings in start afresh from the new frame.
    assert (means[0][:, -3:] == 200).all() and (counts[0][:, -3:] == 1).all()
    assert (means[1][:, -1:] == 90).all() and (means[2][:, -1:] == 91).all()
    assert (counts[1][:, -1:] == 1).all()
    assert all(m.dtype == np.float32 for m in means + counts)


def test_warp_state_zoom_keeps_subsampled_chroma_in_register():
    """The chroma means (4:2:0) move with the luma mean: a 5 % zoom of smooth texture, pooled
    after the warp, matches the warped chroma."""
    height, width = 64, 96
    luma = cv2.GaussianBlur(_texture(height, width), (0, 0), 3)
    chroma = cv2.resize(luma, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    means = [luma.copy(), chroma.copy(), chroma.copy()]
    counts = [np.ones((height, width), np.float32),
              np.ones((height // 2, width // 2), np.float32)]
    frame = [np.zeros((height, width), np.uint8)] + [np.zeros((height // 2, width // 2),
                                                              np.uint8)] * 2
    _, to_reference = _moved(luma, 0, 1.05)
    warp_state_(means, counts, np.vstack([to_reference, [0, 0, 1]]), frame)
    pooled = cv2.resize(means[0], (width // 2, height // 2), interpolation=cv2.INTER_AREA)
    inner = (slice(4, -4), slice(4, -4))
    # Not warped: 1; the luma homography used on the chroma grid as it is: 2.1.
    assert np.abs(pooled[inner] - means[1][inner]).mean() < 0.3 * np.abs(
        pooled[inner] - chroma[inner]).mean()
    np.testing.assert_array_equal(means[1], means[2])
