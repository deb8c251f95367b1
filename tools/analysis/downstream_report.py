"""Tables and the bar chart of ``dark_downstream_benchmark.py``: means, spreads and paired
differences over seeds of the share of the score lost to darkness that each row wins back."""
import os
from typing import Dict, List

import numpy as np


def recovery(value: float, normal: float, dark: float) -> float:
    """Share of the score lost to darkness that a row wins back (percent)."""
    return 100.0 * (value - dark) / (normal - dark) if normal != dark else float('nan')


def summarise(per_seed: Dict[int, Dict[str, float]], metric: str) -> str:
    """Markdown table: score and recovered share, mean ± std over the seeds."""
    rows = list(next(iter(per_seed.values())))
    lines = [f'| condition | {metric} | recovered share of the lost {metric} | per seed (%) |',
             '|---|---|---|---|']
    for row in rows:
        values = np.array([s[row] for s in per_seed.values() if row in s])
        rec = np.array([recovery(s[row], s['normal light'], s['dark'])
                        for s in per_seed.values() if row in s])
        score = f'{values.mean():.3f} ± {_std(values):.3f}'
        if row in ('normal light', 'dark'):
            lines.append(f'| {row} | {score} | | |')
        else:
            lines.append(f'| {row} | {score} | **{rec.mean():.0f} ± {_std(rec):.0f} %** | '
                         f'{", ".join(f"{r:.0f}" for r in rec)} |')
    lines += ['', '| paired by seed | difference in recovered share (points) | per seed |',
              '|---|---|---|']
    for name, better, worse in comparisons(rows):
        diff = np.array([recovery(s[better], s['normal light'], s['dark']) -
                         recovery(s[worse], s['normal light'], s['dark'])
                         for s in per_seed.values() if better in s and worse in s])
        lines.append(f'| {name} | **{diff.mean():+.1f} ± {_std(diff):.1f}** | '
                     f'{", ".join(f"{d:+.0f}" for d in diff)} |')
    return '\n'.join(lines)


def comparisons(rows: List[str]) -> List[tuple]:
    """(label, row, row it is compared with) of the questions the benchmark answers."""
    pairs = [('SGZ default pipeline - official SGZ (frozen)', 'dark + SGZ default pipeline',
              'dark + official SGZ')]
    trivial = [r for r in ('dark + auto gain', 'dark + auto gamma', 'dark + CLAHE') if r in rows]
    pairs += [(f'SGZ default pipeline - {r[len("dark + "):]} (frozen)',
               'dark + SGZ default pipeline', r) for r in trivial]
    guided = '0 labels, adapted: model as guide'
    pairs += [('adapted with the model as guide - frozen default', guided,
               'dark + SGZ default pipeline'),
              ('adapted with the model as guide - zero-reference control', guided,
               '0 labels, adapted: zero-reference only (control)'),
              ('settings chosen by the model\'s confidence - frozen default',
               '0 labels, settings chosen by the model\'s confidence',
               'dark + SGZ default pipeline')]
    for row in rows:
        if row.endswith('joint SGZ + model fine-tune'):
            budget = row.split(':')[0]
            pairs.append((f'{budget}: joint - control', row,
                          f'{budget}: model-only fine-tune (control)'))
    return [p for p in pairs if p[1] in rows and p[2] in rows]


def _std(values: np.ndarray) -> float:
    return float(values.std(ddof=1)) if len(values) > 1 else 0.0


def bar_chart(per_seed: Dict[int, Dict[str, float]], metric: str, path: str) -> None:
    """Recovered share per condition, mean and std over the seeds, each seed as a dot."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = [r for r in next(iter(per_seed.values())) if r not in ('normal light', 'dark')]
    recs = [[recovery(s[r], s['normal light'], s['dark']) for s in per_seed.values() if r in s]
            for r in rows]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    ax.barh(y, [np.mean(r) for r in recs], xerr=[_std(np.array(r)) for r in recs],
            color='#4c72b0', alpha=0.8, capsize=3)
    for yi, r in zip(y, recs):
        ax.plot(r, [yi] * len(r), 'k.', ms=4)
    ax.set_yticks(y, rows, fontsize=8)
    ax.axvline(0, color='k', lw=0.8)
    ax.axvline(100, color='grey', lw=0.8, ls='--')
    ax.set_xlabel(f'share of the {metric} lost to darkness recovered (%), '
                  f'{len(per_seed)} seeds')
    fig.tight_layout()
    tmp = path + '.tmp.png'
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    os.replace(tmp, path)
