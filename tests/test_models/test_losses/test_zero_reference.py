"""Zero-reference losses against loop-based hand computations of the official formulas."""
import math

import numpy as np
import pytest
import torch

from mmlowlight.models.losses import (ColorConstancyLoss, ExposureLoss, IlluminationSmoothnessLoss,
                                      SpatialConsistencyLoss)
from mmlowlight.registry import MODELS


def _images(n=2, h=10, w=13, seed=0, dtype=torch.float32):
    gen = torch.Generator().manual_seed(seed)
    enhanced = torch.rand(n, 3, h, w, generator=gen, dtype=dtype)
    original = torch.rand(n, 3, h, w, generator=gen, dtype=dtype) * 0.3
    factor = torch.rand(n, 3, h, w, generator=gen, dtype=dtype) * 2 - 1
    return enhanced, original, factor


def _gradcheck(fn, tensor):
    return torch.autograd.gradcheck(fn, tensor.clone().requires_grad_(True), fast_mode=True)


def _patch_means(img, patch):
    """Channel mean, then means of complete patch x patch blocks (AvgPool2d floor semantics)."""
    _, h, w = img.shape
    rows, cols = h // patch, w // patch
    out = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            total = 0.0
            for c in range(3):
                for y in range(i * patch, (i + 1) * patch):
                    for x in range(j * patch, (j + 1) * patch):
                        total += float(img[c, y, x])
            out[i, j] = total / (3 * patch * patch)
    return out


def _spatial_by_hand(enhanced, original, patch=4, diag=0.5):
    total, count = 0.0, 0
    for n in range(enhanced.shape[0]):
        pe = _patch_means(enhanced[n].numpy(), patch)
        po = _patch_means(original[n].numpy(), patch)
        rows, cols = pe.shape

        def value(p, i, j):  # zero outside the image, like the official padded convs
            return p[i, j] if 0 <= i < rows and 0 <= j < cols else 0.0

        for i in range(rows):
            for j in range(cols):
                e = 0.0
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        if dy == 0 and dx == 0:
                            continue
                        weight = 1.0 if dy == 0 or dx == 0 else diag
                        d_org = po[i, j] - value(po, i + dy, j + dx)
                        d_enh = pe[i, j] - value(pe, i + dy, j + dx)
                        e += weight * (d_org - d_enh)**2
                total += e
                count += 1
    return total / count


class TestSpatialConsistencyLoss:

    def test_matches_hand_computation(self):
        enhanced, original, factor = _images(h=14, w=17)  # incomplete border patches dropped
        loss = SpatialConsistencyLoss()(enhanced, original, factor)
        assert loss.item() == pytest.approx(_spatial_by_hand(enhanced, original), rel=1e-5)

    def test_options_and_weight(self):
        enhanced, original, factor = _images(h=9, w=9)
        loss = SpatialConsistencyLoss(patch_size=3, diagonal_weight=0.0, loss_weight=2.0)
        expected = 2.0 * _spatial_by_hand(enhanced, original, patch=3, diag=0.0)
        assert loss(enhanced, original, factor).item() == pytest.approx(expected, rel=1e-5)
        assert loss.loss_name == 'loss_spatial'

    def test_identity_is_zero(self):
        enhanced, _, factor = _images()
        assert SpatialConsistencyLoss()(enhanced, enhanced, factor).item() == 0.0

    def test_gradient(self):
        enhanced, original, factor = _images(n=1, h=8, w=8, dtype=torch.float64)
        loss = SpatialConsistencyLoss()
        assert _gradcheck(lambda e: loss(e, original, factor), enhanced)

    def test_too_small(self):
        enhanced, original, factor = _images(h=3, w=8)
        with pytest.raises(ValueError, match='at least 4x4'):
            SpatialConsistencyLoss()(enhanced, original, factor)


class TestColorConstancyLoss:

    @staticmethod
    def _by_hand(enhanced, mode, eps=1e-6):
        results = []
        for img in enhanced.numpy():
            means = [float(np.mean(img[c])) for c in range(3)]
            pairs = [(0, 1), (0, 2), (1, 2)]
            if mode == 'code':
                results.append(math.sqrt(sum(((means[p] - means[q])**2)**2 for p, q in pairs)))
            else:
                results.append(sum(math.sqrt((means[p] - means[q])**2 + eps**2)
                                   for p, q in pairs))
        return sum(results) / len(results)

    @pytest.mark.parametrize('mode', ['code', 'charbonnier'])
    def test_matches_hand_computation(self, mode):
        enhanced, original, factor = _images()
        loss = ColorConstancyLoss(mode=mode)
        expected = 5.0 * self._by_hand(enhanced, mode)
        assert loss(enhanced, original, factor).item() == pytest.approx(expected, rel=1e-5)

    def test_grey_image_is_zero_in_code_mode(self):
        grey = torch.full((1, 3, 4, 4), 0.3)
        assert ColorConstancyLoss()(grey, grey, grey).item() == 0.0
        assert ColorConstancyLoss(mode='charbonnier')(grey, grey, grey).item() == \
            pytest.approx(5.0 * 3e-6, rel=1e-4)

    def test_gradient(self):
        enhanced, original, factor = _images(n=2, h=3, w=4, dtype=torch.float64)
        for mode in ('code', 'charbonnier'):
            loss = ColorConstancyLoss(mode=mode)
            assert _gradcheck(lambda e: loss(e, original, factor), enhanced)

    def test_bad_mode(self):
        with pytest.raises(ValueError, match='mode'):
            ColorConstancyLoss(mode='paper')


class TestExposureLoss:

    def test_matches_hand_computation(self):
        enhanced, original, factor = _images(h=33, w=40)
        expected = 0.0
        for img in enhanced.numpy():
            patches = _patch_means(img, 16)
            expected += sum((p - 0.6)**2 for p in patches.flat) / patches.size
        expected = 10.0 * expected / enhanced.shape[0]
        loss = ExposureLoss()(enhanced, original, factor)
        assert loss.item() == pytest.approx(expected, rel=1e-5)

    def test_level_reached_is_zero(self):
        image = torch.full((1, 3, 16, 16), 0.5)
        assert ExposureLoss(level=0.5)(image, image, image).item() == pytest.approx(0, abs=1e-12)

    def test_gradient(self):
        enhanced, original, factor = _images(n=1, h=4, w=4, dtype=torch.float64)
        loss = ExposureLoss(patch_size=2)
        assert _gradcheck(lambda e: loss(e, original, factor), enhanced)


class TestIlluminationSmoothnessLoss:

    def test_matches_hand_computation(self):
        enhanced, original, factor = _images(n=2, h=5, w=7)
        f = factor.numpy()
        n, c, h, w = f.shape
        vertical = sum((f[b, k, y + 1, x] - f[b, k, y, x])**2
                       for b in range(n) for k in range(c) for y in range(h - 1)
                       for x in range(w))
        horizontal = sum((f[b, k, y, x + 1] - f[b, k, y, x])**2
                         for b in range(n) for k in range(c) for y in range(h)
                         for x in range(w - 1))
        expected = 1600 * 2 * (vertical / ((h - 1) * w) + horizontal / (h * (w - 1))) / n
        loss = IlluminationSmoothnessLoss()(enhanced, original, factor)
        assert loss.item() == pytest.approx(expected, rel=1e-5)

    def test_constant_map_is_zero(self):
        enhanced, original, _ = _images()
        factor = torch.full_like(enhanced, -0.4)
        assert IlluminationSmoothnessLoss()(enhanced, original, factor).item() == 0.0

    def test_gradient(self):
        enhanced, original, factor = _images(n=1, h=3, w=4, dtype=torch.float64)
        loss = IlluminationSmoothnessLoss(loss_weight=1.0)
        assert _gradcheck(lambda f: loss(enhanced, original, f), factor)


class TestCommon:

    @pytest.mark.parametrize('name,key,weight', [
        ('SpatialConsistencyLoss', 'loss_spatial', 1.0),
        ('ColorConstancyLoss', 'loss_color', 5.0),
        ('ExposureLoss', 'loss_exposure', 10.0),
        ('IlluminationSmoothnessLoss', 'loss_smooth', 1600.0),
    ])
    def test_registry_defaults(self, name, key, weight):
        loss = MODELS.build(dict(type=f'mmlowlight.{name}'))
        assert loss.loss_name == key
        assert loss.loss_weight == weight

    def test_shape_mismatch(self):
        enhanced, original, factor = _images()
        with pytest.raises(ValueError, match='one shape'):
            ExposureLoss()(enhanced, original[:, :, :5], factor)
        with pytest.raises(ValueError, match='factor must be'):
            IlluminationSmoothnessLoss()(enhanced, original, factor[:1])

    def test_loss_name_must_contain_loss(self):
        with pytest.raises(ValueError, match='loss_name'):
            ExposureLoss(loss_name='exposure')
