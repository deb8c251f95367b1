"""Let a frozen detector or segmentor choose among enhancer settings by its own confidence.

No labels and no training: the model's test loop runs once per candidate setting of the
enhancer in front of it, with :class:`mmlowlight.evaluation.ModelConfidence` as the evaluator,
and the setting it is surest with wins. On the downstream benchmark this recovered 85 % of the
detection mAP lost to darkness instead of the default's 80 % (six seeds, higher on every one);
for the segmentor, with its background class left out of the confidence, 86 % instead of 84 %
(a small gain: see ``docs/en/user_guides/adapt_to_your_model.md``).
"""
import copy
from typing import Dict, Mapping, Optional, Tuple

from mmengine.config import Config

from mmlowlight.models.enhancers.pipeline_config import merge_enhancer_args
from .runner import build_runner, configure_testing

__all__ = ['ENHANCER_CANDIDATES', 'candidate_config', 'choose_enhancer_settings']

#: The settings compared (SGZEnhancer keys over the pipeline the config builds): the default,
#: more of the lift as one gain (the contrast a model trained on normal light knows) with a
#: later roll-off, a lighter denoiser, and both (a detector's confidence rose with each, and
#: most with both: see docs/en/benchmarks.md). The output level is not among them: a darker output
#: raised the benchmark's mAP and lowered the detector's confidence.
ENHANCER_CANDIDATES: Dict[str, dict] = {
    'default': {},
    'gain share 0.85': dict(exposure_control=dict(gain_share=0.85)),
    'gain share 0.95, knee 0.9': dict(exposure_control=dict(gain_share=0.95, knee=0.9)),
    'denoiser strength 1.0': dict(denoiser=dict(strength=1.0)),
    'gain share 0.95, knee 0.9, denoiser strength 1.0': dict(
        exposure_control=dict(gain_share=0.95, knee=0.9), denoiser=dict(strength=1.0)),
}


def candidate_config(cfg: Config, overrides: Mapping,
                     background_index: Optional[int] = None) -> Config:
    """A copy of a det/seg test config with ``overrides`` over its enhancer and
    :class:`~mmlowlight.evaluation.ModelConfidence` as the test evaluator.

    Args:
        cfg (Config): A config whose ``model.data_preprocessor`` is one of mmlowlight's
            low-light preprocessors (``LowLightDetDataPreprocessor``,
            ``LowLightSegDataPreProcessor``); not modified.
        overrides (Mapping): SGZEnhancer keys, e.g. ``dict(exposure_control=dict(
            gain_share=0.95))``, over what the preprocessor's ``enhancer`` builds (the
            checkpoint's recorded pipeline and the config's own keys).
        background_index (int, optional): A segmentor's background class, left out of the
            confidence (:class:`~mmlowlight.evaluation.ModelConfidence`). Defaults to None.

    Returns:
        Config: The new config.

    Raises:
        ValueError: The model has no mmlowlight low-light preprocessor.
    """
    cfg = copy.deepcopy(cfg)
    preprocessor = cfg.get('model', {}).get('data_preprocessor') or {}
    if 'LowLight' not in str(preprocessor.get('type', '')):
        raise ValueError(f'the config\'s model.data_preprocessor is '
                         f'{preprocessor.get("type")!r}, not an mmlowlight low-light '
                         'preprocessor (LowLightDetDataPreprocessor, '
                         'LowLightSegDataPreProcessor): there is no enhancer to choose settings '
                         'for')
    enhancer = dict(preprocessor.get('enhancer') or {})
    enhancer_type = enhancer.pop('type', 'mmlowlight.SGZEnhancer')
    preprocessor['enhancer'] = dict(type=enhancer_type,
                                    **merge_enhancer_args(enhancer, overrides))
    cfg.test_evaluator = dict(type='mmlowlight.ModelConfidence')
    if background_index is not None:
        cfg.test_evaluator['background_index'] = background_index
    return cfg


def choose_enhancer_settings(cfg: Config, checkpoint: str,
                             candidates: Optional[Mapping[str, Mapping]] = None,
                             background_index: Optional[int] = None
                             ) -> Tuple[str, Dict[str, float]]:
    """Run the model's test loop behind each candidate setting and pick the most confident.

    Args:
        cfg (Config): The model's config (from :func:`load_runner_config`), its
            ``test_dataloader`` on the unlabelled images (labels are not read); not modified.
        checkpoint (str): The model's weights.
        candidates (Mapping, optional): Name -> SGZEnhancer keys. Defaults to
            :data:`ENHANCER_CANDIDATES`.
        background_index (int, optional): A segmentor's background class: its pixels do not
            count in the confidence (on the benchmark the background swamped the objects'
            confidence). Defaults to None (every pixel counts; detectors ignore it).

    Returns:
        tuple[str, dict]: The chosen name and every candidate's confidence in [0, 1].
    """
    candidates = ENHANCER_CANDIDATES if candidates is None else candidates
    if not candidates:
        raise ValueError('no candidate settings to choose among')
    confidences = {}
    for name, overrides in candidates.items():
        candidate = configure_testing(candidate_config(cfg, overrides, background_index),
                                      checkpoint)
        confidences[name] = float(build_runner(candidate).test()['confidence'])
    return max(confidences, key=confidences.get), confidences
