"""The table (Markdown), JSON and plot of a video benchmark's rows (see
:func:`mmseg_convlstm.benchmarks.video_benchmark.run_video_benchmark`)."""
import json
import os
import os.path as osp
from typing import Dict, List, Optional

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

MACS_NOTE = ('GMACs per frame: multiply-accumulates of the backbone and the '
             "recurrent steps of one frame, counted by MMEngine's "
             'FlopAnalyzer (which calls them "flops"); element-wise '
             'operations are not counted. Video rows step from the state the '
             'previous frame left, static rows from zeros. With the backbone '
             'on every N-th frame, its MACs count 1/N per frame. Per-position '
             'rows count the head as it ran on the annotated frame: the '
             'bottom projection and the steps of the positions that stepped; '
             'their steps per frame are the mean over positions.')
COLUMNS = ('setting', 'context frames K', 'steps per frame',
           'backbone every N frames', 'steps behind the prediction',
           'head GMACs per frame', 'GMACs per frame', 'mIoU', 'mAcc', 'aAcc')


def setting_name(row: dict) -> str:
    """How the tables name a row's mode."""
    if row['mode'] == 'position':
        return f"per position ({row['position_exit']})"
    return ('static (cold start)'
            if row['mode'] == 'static' else 'video (carried state)')


def _steps_per_frame(row: dict) -> str:
    if row['mode'] == 'position':
        return f"{row['mean_position_steps']:.3f}"
    return str(row['steps_per_frame'])


def markdown_table(rows: List[dict]) -> str:
    """The rows as a Markdown table."""
    lines = [
        '| ' + ' | '.join(COLUMNS) + ' |',
        '|' + '|'.join(' --- ' for _ in COLUMNS) + '|'
    ]
    for row in rows:
        cells = (setting_name(row), row['context_frames'],
                 _steps_per_frame(row), row['backbone_interval'],
                 '' if row['total_steps'] is None else row['total_steps'],
                 f"{row['head_gmacs_per_frame']:.3f}",
                 f"{row['gmacs_per_frame']:.3f}", f"{row['mIoU']:.2f}",
                 f"{row['mAcc']:.2f}", f"{row['aAcc']:.2f}")
        lines.append('| ' + ' | '.join(map(str, cells)) + ' |')
    return '\n'.join(lines) + '\n'


def macs_table(rows: List[dict]) -> str:
    """GMACs per frame of each mode and number of steps, as Markdown."""
    lines = [
        '| setting | steps per frame | backbone every N frames | '
        'GMACs per frame |', '| --- | --- | --- | --- |'
    ]
    for row in rows:
        lines.append(f'| {setting_name(row)} | {_steps_per_frame(row)} | '
                     f"{row['backbone_interval']} | "
                     f"{row['gmacs_per_frame']:.2f} |")
    return '\n'.join(lines) + '\n'


def plot_video_results(rows: List[dict], path: str) -> None:
    """mIoU against GMACs per frame: the static baseline as a curve over its
    steps, each dense video setting as a point labelled (K, s, N), each
    per-position setting as a numbered triangle that the legend, beside
    the axes, names."""
    figure, axes = plt.subplots(figsize=(9.6, 4.6))
    static = [row for row in rows if row['mode'] == 'static']
    if static:
        axes.plot([row['gmacs_per_frame'] for row in static],
                  [row['mIoU'] for row in static],
                  'o-',
                  color='black',
                  label='static, cold start (1..T steps)')
    per_position = [row for row in rows if row['mode'] == 'position']
    for row in (row for row in rows if row['mode'] == 'video'):
        _labelled_point(
            axes, row, f"K={row['context_frames']}, s={row['steps_per_frame']}"
            f", N={row['backbone_interval']}", 'o')
    for number, row in enumerate(per_position, 1):
        _labelled_point(
            axes, row, f'P{number}', '^',
            f"P{number}: K={row['context_frames']}, {row['position_exit']}")
    axes.set_xlabel('GMACs per frame')
    axes.set_ylabel('mIoU of the annotated frames (%)')
    axes.set_title(
        'Carried state: K context frames, s steps per frame, backbone every '
        'N frames;\ntriangles: per-position steps', fontsize=9)
    axes.margins(x=0.1)
    axes.grid(alpha=0.3)
    axes.legend(loc='upper left', bbox_to_anchor=(1.02, 1), fontsize=7)
    figure.savefig(path, dpi=120, bbox_inches='tight')
    plt.close(figure)


def _labelled_point(axes, row: dict, text: str, marker: str,
                    legend: Optional[str] = None) -> None:
    axes.scatter(
        row['gmacs_per_frame'],
        row['mIoU'],
        marker=marker,
        zorder=3,
        label=legend)
    axes.annotate(
        text, (row['gmacs_per_frame'], row['mIoU']),
        textcoords='offset points',
        xytext=(4, 4),
        fontsize=7)


def write_video_report(rows: List[dict], work_dir: str,
                       info: Dict[str, object]) -> Dict[str, str]:
    """Writes ``video_results.md``, ``.json`` and ``.png`` to ``work_dir``.

    Args:
        rows (list[dict]): The benchmark's rows.
        work_dir (str): Where to write.
        info (dict): What was evaluated (config, checkpoint, ...), written
            above the table and into the JSON.

    Returns:
        dict: The paths written, by kind ('markdown', 'json', 'plot').
    """
    os.makedirs(work_dir, exist_ok=True)
    paths = {
        kind: osp.join(work_dir, f'video_results.{extension}')
        for kind, extension in (('markdown', 'md'), ('json', 'json'), ('plot',
                                                                       'png'))
    }
    header = ''.join(f'- {key}: {value}\n' for key, value in info.items())
    with open(paths['markdown'], 'w') as file:
        file.write(header + '\n' + markdown_table(rows) + '\n' + MACS_NOTE +
                   '\n')
    with open(paths['json'], 'w') as file:
        json.dump(dict(**info, macs_note=MACS_NOTE, rows=rows), file, indent=2)
    plot_video_results(rows, paths['plot'])
    return paths
