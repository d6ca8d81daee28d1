"""The table (Markdown), JSON and plot of a video benchmark's rows (see
:func:`mmseg_convlstm.benchmarks.video_benchmark.run_video_benchmark`)."""
import json
import os
import os.path as osp
from typing import Dict, List

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

MACS_NOTE = ('GMACs per frame: multiply-accumulates of the backbone and the '
             "recurrent steps of one frame, counted by MMEngine's "
             'FlopAnalyzer (which calls them "flops"); element-wise '
             'operations are not counted. Video rows step from the state the '
             'previous frame left, static rows from zeros. With the backbone '
             'on every N-th frame, its MACs count 1/N per frame.')
COLUMNS = ('setting', 'context frames K', 'steps per frame',
           'backbone every N frames', 'steps behind the prediction',
           'GMACs per frame', 'mIoU', 'mAcc', 'aAcc')


def setting_name(row: dict) -> str:
    """How the tables name a row's mode."""
    return ('static (cold start)'
            if row['mode'] == 'static' else 'video (carried state)')


def markdown_table(rows: List[dict]) -> str:
    """The rows as a Markdown table."""
    lines = [
        '| ' + ' | '.join(COLUMNS) + ' |',
        '|' + '|'.join(' --- ' for _ in COLUMNS) + '|'
    ]
    for row in rows:
        cells = (setting_name(row), row['context_frames'],
                 row['steps_per_frame'], row['backbone_interval'],
                 row['total_steps'],
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
        lines.append(f"| {setting_name(row)} | {row['steps_per_frame']} | "
                     f"{row['backbone_interval']} | "
                     f"{row['gmacs_per_frame']:.2f} |")
    return '\n'.join(lines) + '\n'


def plot_video_results(rows: List[dict], path: str) -> None:
    """mIoU against GMACs per frame: the static baseline as a curve over its
    steps, each video setting as a labelled point."""
    figure, axes = plt.subplots(figsize=(6.4, 4.2))
    static = [row for row in rows if row['mode'] == 'static']
    if static:
        axes.plot([row['gmacs_per_frame'] for row in static],
                  [row['mIoU'] for row in static],
                  'o-',
                  color='black',
                  label='static, cold start (1..T steps)')
    for row in (row for row in rows if row['mode'] == 'video'):
        axes.scatter(row['gmacs_per_frame'], row['mIoU'], zorder=3)
        axes.annotate(
            f"K={row['context_frames']}, s={row['steps_per_frame']}, "
            f"N={row['backbone_interval']}",
            (row['gmacs_per_frame'], row['mIoU']),
            textcoords='offset points',
            xytext=(4, 4),
            fontsize=8)
    axes.set_xlabel('GMACs per frame')
    axes.set_ylabel('mIoU of the annotated frames (%)')
    axes.set_title('Carried state (K context frames, s steps per frame, '
                   'backbone every N frames)',
                   fontsize=9)
    axes.grid(alpha=0.3)
    axes.legend(loc='lower right', fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


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
