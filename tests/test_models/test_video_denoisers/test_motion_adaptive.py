"""MotionAdaptiveTemporalDenoiser: the numba kernel against the PyTorch reference, static noise
averaged away, moving objects and scene cuts passed through, arguments and the registry."""
import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmlowlight.models.video_denoisers import (MotionAdaptiveTemporalDenoiser, estimate_noise_sigma,
                                               motion_adaptive_step_torch)
from mmlowlight.registry import MODELS


def _scene(height=48, width=64, seed=0):
    rng = np.random.default_rng(seed)
    luma = np.kron(rng.integers(20, 80, (height // 8 + 1, width // 8 + 1)),
                   np.ones((8, 8)))[:height, :width].astype(np.float32)
    chroma = np.full(((height + 1) // 2, (width + 1) // 2), 128, np.float32)
    return [luma, chroma, chroma + 6]


def _noisy(planes, rng, sigma=3.0):
    return [np.clip(p + rng.normal(0, sigma, p.shape), 0, 255).round().astype(np.uint8)
            for p in planes]


def _run(denoiser, frames):
    return [[o.copy() for o in denoiser(f)] for f in frames]


def _luma_error(denoiser, frames, truths, skip=8):
    """Mean absolute difference of the filtered luma to the noise-free luma, frames skip+."""
    out = _run(denoiser, frames)
    return np.mean([np.abs(o[0].astype(np.float32) - t).mean()
                    for o, t in zip(out[skip:], truths[skip:])])


@pytest.mark.parametrize('height, width, chroma', [(48, 64, True), (31, 45, True),
                                                   (20, 30, False)])
def test_numba_matches_torch_reference(height, width, chroma):
    rng = np.random.default_rng(1)
    scene = _scene(height, width)
    frames = [_noisy(scene, rng) for _ in range(6)]
    frames[3][0][5:15, 5:20] = 200  # something moves in
    if not chroma:
        frames = [f[:1] for f in frames]
    # The step kernels compared: with motion following on, the float rounding of the two
    # kernels' means can tip the flow's acceptance one way or the other.
    fast = _run(MotionAdaptiveTemporalDenoiser(backend='numba', follow_motion=False), frames)
    reference = _run(MotionAdaptiveTemporalDenoiser(backend='torch', follow_motion=False),
                     frames)
    for got, want in zip(fast, reference):
        for a, b in zip(got, want):
            diff = np.abs(a.astype(int) - b)
            assert diff.max() <= 1 and diff.mean() < 0.01  # float rounding only


def test_static_noise_averaged_at_the_same_brightness():
    rng = np.random.default_rng(2)
    scene = _scene()
    frames = [_noisy(scene, rng, sigma=4.0) for _ in range(16)]
    out = _run(MotionAdaptiveTemporalDenoiser(), frames)
    raw = np.stack([f[0] for f in frames[8:]]).astype(np.float32)
    clean = np.stack([f[0] for f in out[8:]]).astype(np.float32)
    assert clean.std(axis=0).mean() < 0.4 * raw.std(axis=0).mean()
    assert abs(clean.mean() - raw.mean()) < 0.5
    chroma_raw = np.stack([f[1] for f in frames[8:]]).astype(np.float32).std(axis=0).mean()
    chroma_clean = np.stack([f[1] for f in out[8:]]).astype(np.float32).std(axis=0).mean()
    assert chroma_clean < 0.5 * chroma_raw


def test_moving_object_leaves_no_trail():
    """A bright square crossing a noisy static scene: the output on the square and on the
    pixels it just left follows the input frame (no ghost), while the static background is
    averaged."""
    rng = np.random.default_rng(3)
    scene = _scene(64, 96)
    frames, masks = [], []
    for t in range(14):
        planes = [p.copy() for p in scene]
        planes[0][20:36, 4 * t:4 * t + 16] = 140
        frames.append(_noisy(planes, rng))
        mask = np.zeros((64, 96), bool)
        mask[20:36, 4 * t:4 * t + 16] = True
        masks.append(mask)
    out = _run(MotionAdaptiveTemporalDenoiser(), frames)
    for t in range(6, 14):
        wake = np.zeros_like(masks[t])
        for back in range(1, 6):
            wake |= masks[t - back]
        wake &= ~masks[t]
        luma, frame = out[t][0].astype(np.float32), frames[t][0].astype(np.float32)
        # Signed error against the noise-free frame: a trail would be a bias there.
        truth = scene[0].copy()
        truth[masks[t]] = 140
        assert abs((luma - truth)[masks[t]].mean()) < 1.0
        assert abs((luma - truth)[wake].mean()) < 1.0
        assert np.abs(luma - frame)[masks[t]].mean() < 3.0


def test_scene_cut_restarts():
    rng = np.random.default_rng(4)
    first, second = _scene(seed=5), _scene(seed=6)
    denoiser = MotionAdaptiveTemporalDenoiser()
    for _ in range(6):
        denoiser(_noisy(first, rng))
    cut = _noisy(second, rng)
    out = denoiser(cut)
    assert denoiser.scene_cuts == 1
    for got, frame in zip(out, cut):  # nothing of the old scene
        np.testing.assert_array_equal(got, frame)


def test_disabled_strided_planes_and_reset():
    rng = np.random.default_rng(7)
    scene = _scene()
    frames = [_noisy(scene, rng) for _ in range(3)]
    off = MotionAdaptiveTemporalDenoiser(max_frames=1)
    for f in frames:
        for got, want in zip(off(f), f):
            np.testing.assert_array_equal(got, want)
    # Padded rows, as in an FFmpeg frame: same result as contiguous planes, written in place.
    padded = [np.zeros((p.shape[0], p.shape[1] + 16), np.uint8) for p in frames[0]]
    a, b = MotionAdaptiveTemporalDenoiser(), MotionAdaptiveTemporalDenoiser()
    for f in frames:
        views = []
        for buffer, plane in zip(padded, f):
            buffer[:, :plane.shape[1]] = plane
            views.append(buffer[:, :plane.shape[1]])
        outs = [np.zeros_like(buffer) for buffer in padded]
        result = a(views, [o[:, :v.shape[1]] for o, v in zip(outs, views)])
        for got, want in zip(result, b(f)):
            np.testing.assert_array_equal(got, want)
    a.reset()
    for got, want in zip(a(frames[0]), frames[0]):  # starts afresh
        np.testing.assert_array_equal(got, want)


def test_noise_estimate():
    rng = np.random.default_rng(8)
    diff = rng.normal(0, 3.0, 20000).astype(np.float32) * np.sqrt(2)  # n = 1: two frames
    diff[:2000] += 60  # 10 % moving pixels
    assert estimate_noise_sigma(diff, np.ones(diff.shape, np.float32)) == pytest.approx(
        3.0, rel=0.1)
    denoiser = MotionAdaptiveTemporalDenoiser()
    scene = _scene(96, 128)
    for _ in range(4):
        denoiser(_noisy(scene, rng, sigma=2.5))
    assert denoiser.sigmas[0] == pytest.approx(2.5, rel=0.2)
    fixed = MotionAdaptiveTemporalDenoiser(noise_sigma=5.0)
    fixed(_noisy(scene, rng))
    fixed(_noisy(scene, rng))
    assert fixed.sigmas == [5.0, 5.0, 5.0]


def test_torch_reference_shapes_and_dtypes():
    planes = [torch.full((6, 8), 50.0), torch.full((3, 4), 128.0), torch.full((3, 4), 120.0)]
    means = [p.clone() for p in planes]
    counts = [torch.ones(6, 8), torch.ones(3, 4)]
    outs, new_means, new_counts = motion_adaptive_step_torch(planes, means, counts,
                                                             [2.0, 2.0, 2.0], 1.0, 2.0, 4.0, 8)
    assert [o.dtype for o in outs] == [torch.uint8] * 3
    assert [o.shape for o in outs] == [p.shape for p in planes]
    assert torch.equal(new_counts[0], torch.full((6, 8), 2.0))  # static: one more frame


def test_built_from_config_and_arguments_checked():
    # _scope_: other tests leave mmdet's default scope set in the process.
    denoiser = MODELS.build(dict(type='MotionAdaptiveTemporalDenoiser', _scope_='mmlowlight',
                                 max_frames=4))
    assert isinstance(denoiser, MotionAdaptiveTemporalDenoiser) and denoiser.max_frames == 4
    for kwargs, message in [(dict(max_frames=0), 'max_frames'),
                            (dict(max_frames=2.5), 'max_frames'),
                            (dict(noise_sigma=0), 'noise_sigma'),
                            (dict(motion_low=2, motion_high=1), 'motion_low'),
                            (dict(motion_spike=0), 'motion_spike'),
                            (dict(scene_cut=0), 'scene_cut'),
                            (dict(backend='cuda'), 'backend')]:
        with pytest.raises(ValueError, match=message):
            MotionAdaptiveTemporalDenoiser(**kwargs)
    with pytest.raises(ValueError, match='uint8 planes'):
        MotionAdaptiveTemporalDenoiser()([np.zeros((4, 4), np.float32)])


@pytest.mark.parametrize('backend', ['numba', 'torch'])
def test_camera_pan_keeps_fine_texture(backend):
    """A dark, noisy frame of fine texture panning 3 px per frame: followed, the output is as
    close to the noise-free frames as a static scene's; not followed, the texture (fainter
    than the noise, so the per-pixel test calls it static) is averaged into streaks."""
    rng = np.random.default_rng(7)
    grain = rng.normal(0, 1, (160, 340)).astype(np.float32)
    grain = F.avg_pool2d(torch.from_numpy(grain)[None, None], 3, 1, 1)[0, 0].numpy()
    scene = 30 + 4 * grain / grain.std()  # fine texture a little fainter than the noise
    height, width = 128, 256

    def clip(t, speed):
        frames, truths = [], []
        for i in range(t):
            x0 = 60 - speed * i
            truth = scene[16:16 + height, x0:x0 + width]
            chroma = np.full(((height + 1) // 2, (width + 1) // 2), 128, np.float32)
            frames.append(_noisy([truth, chroma, chroma], rng, sigma=3.0))
            truths.append(truth)
        return frames, truths

    static = _luma_error(MotionAdaptiveTemporalDenoiser(backend=backend), *clip(16, 0))
    frames, truths = clip(16, 3)
    followed = MotionAdaptiveTemporalDenoiser(backend=backend)
    panned = _luma_error(followed, frames, truths)
    smeared = _luma_error(MotionAdaptiveTemporalDenoiser(follow_motion=False,
                                                         backend=backend), frames, truths)
    assert followed.camera_shifts >= 12
    assert panned < 1.15 * static
    assert smeared > 1.5 * panned


def test_camera_pan_moves_subsampled_chroma_by_its_own_pixels():
    """4:2:0 planes panning 1 luma pixel per frame: the chroma state moves one chroma pixel
    every second frame (the half pixels add up), so the chroma texture is kept as well."""
    rng = np.random.default_rng(8)
    grain = F.avg_pool2d(torch.from_numpy(rng.normal(0, 1, (2, 1, 160, 340)).astype(
        np.float32)), 3, 1, 1)[:, 0].numpy()
    luma = 40 + 6 * grain[0] / grain[0].std()
    chroma = 128 + 6 * grain[1, :80, :170] / grain[1].std()
    height, width = 128, 256

    def frames(speed):
        out, truths = [], []
        for i in range(16):
            x0 = 41 - speed * i  # luma pixels; the chroma view moves every second frame
            c = chroma[8:8 + height // 2, x0 // 2:x0 // 2 + width // 2]
            out.append(_noisy([luma[16:16 + height, x0:x0 + width], c, c], rng, sigma=3.0))
            truths.append(c)
        return out, truths

    def chroma_error(denoiser, clip):
        out = _run(denoiser, clip[0])
        return np.mean([np.abs(o[1].astype(np.float32) - t).mean()
                        for o, t in zip(out[8:], clip[1][8:])])

    static = chroma_error(MotionAdaptiveTemporalDenoiser(), frames(0))
    followed = MotionAdaptiveTemporalDenoiser()
    panned = chroma_error(followed, frames(1))
    smeared = chroma_error(MotionAdaptiveTemporalDenoiser(follow_motion=False), frames(1))
    # A shift of under a pixel at the reduced scale may round to none; the next frame's then
    # covers two pixels.
    assert followed.camera_shifts >= 5
    assert panned < 1.2 * static and smeared > 2 * panned


@pytest.mark.parametrize('backend', ['numba', 'torch'])
def test_forward_drive_is_followed(backend):
    """A dark, noisy frame magnified 1.5 % per frame about its centre (a camera driving
    forward): followed (a homography after the translation), the output is far closer to the
    noise-free frames than the noisy frames are (measured 1.2 grey levels against 2.4; static
    scene 0.75); not followed, the expanding texture is averaged into smears, further off than
    the noisy frames (4.2)."""
    rng = np.random.default_rng(9)
    grain = F.avg_pool2d(torch.from_numpy(rng.normal(0, 1, (1, 1, 200, 300)).astype(
        np.float32)), 5, 1, 2)[0, 0].numpy()
    scene = 35 + 8 * grain / grain.std()
    height, width = 120, 200
    centre = ((scene.shape[1] - 1) / 2, (scene.shape[0] - 1) / 2)

    def clip(rate):
        frames, truths = [], []
        for i in range(16):
            warp = cv2.getRotationMatrix2D(centre, 0, (1 + rate) ** i)
            view = cv2.warpAffine(scene, warp, scene.shape[::-1], flags=cv2.INTER_CUBIC)
            truth = view[40:40 + height, 50:50 + width]
            chroma = np.full((height // 2, width // 2), 128, np.float32)
            frames.append(_noisy([truth, chroma, chroma], rng, sigma=3.0))
            truths.append(truth)
        return frames, truths

    static = _luma_error(MotionAdaptiveTemporalDenoiser(backend=backend), *clip(0))
    frames, truths = clip(0.015)
    followed = MotionAdaptiveTemporalDenoiser(backend=backend)
    driven = _luma_error(followed, frames, truths)
    smeared = _luma_error(MotionAdaptiveTemporalDenoiser(follow_motion=False,
                                                         backend=backend), frames, truths)
    noisy = np.mean([np.abs(f[0].astype(np.float32) - t).mean()
                     for f, t in zip(frames[8:], truths[8:])])
    assert followed.motion_warps >= 12
    assert static < driven < 0.6 * noisy
    assert smeared > max(noisy, 2.5 * driven)
