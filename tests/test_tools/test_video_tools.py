"""tools/test_video.py and tools/video_demo.py on a tiny model and generated
Cityscapes sequences, run as a user runs them."""
import glob
import json
import os.path as osp

import cv2
import mmcv

from tests.tools_runner import run_tool
from tests.video_helpers import SEQUENCE_LENGTH, sequence_folder


def count_video_frames(path):
    capture = cv2.VideoCapture(path)
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


def test_test_video_writes_the_grid_and_the_static_baseline(tiny, tmp_path):
    _, config, checkpoint = tiny
    result = run_tool([
        'tools/test_video.py', config, checkpoint, '--work-dir',
        str(tmp_path), '--context-frames', '0', '1',
        str(SEQUENCE_LENGTH - 1), '--steps-per-frame', '1', '2',
        '--static-steps', '2', '--backbone-intervals', '1', '2',
        '--position-exit', 'skip_change=1e9'
    ])
    assert '| video (carried state) |' in result.stdout
    assert '| backbone every N frames |' in result.stdout
    assert '| per position (skip_change=1e9) |' in result.stdout
    for extension in ('md', 'json', 'png'):
        assert osp.getsize(tmp_path / f'video_results.{extension}') > 0
    with open(tmp_path / 'video_results.json') as file:
        rows = json.load(file)['rows']
    per_position = {
        row['context_frames']: row
        for row in rows if row['mode'] == 'position'
    }
    assert sorted(per_position) == [0, 1, SEQUENCE_LENGTH - 1]
    # After the first frame no position reaches the threshold: no steps.
    assert per_position[1]['head_gmacs_per_frame'] == 0
    rows = [row for row in rows if row['mode'] != 'position']
    settings = [(row['mode'], row['context_frames'], row['steps_per_frame'],
                 row['backbone_interval']) for row in rows]
    assert settings == [('static', 0, 1, 1), ('static', 0, 2, 1)] + [
        ('video', k, s, n) for k in (0, 1, SEQUENCE_LENGTH - 1)
        for s in (1, 2) for n in (1, 2)
    ]
    static = {row['steps_per_frame']: row for row in rows[:2]}
    for row in rows[2:]:
        assert row['total_steps'] == (row['context_frames'] +
                                      1) * row['steps_per_frame']
        if row['context_frames'] == 0:
            # One frame from a reset is a cold start on the annotated frame.
            cold = static[row['steps_per_frame']]
            assert (row['mIoU'], row['aAcc']) == (cold['mIoU'], cold['aAcc'])
    assert static[1]['gmacs_per_frame'] < static[2]['gmacs_per_frame']
    by_steps = {}
    for row in rows[2:]:
        by_steps.setdefault((row['steps_per_frame'], row['backbone_interval']),
                            set()).add(row['gmacs_per_frame'])
    assert all(len(macs) == 1 for macs in by_steps.values())
    for steps in (1, 2):
        (every_frame, ), (every_other, ) = by_steps[(steps, 1)], by_steps[(
            steps, 2)]
        assert every_other < every_frame


def test_test_video_names_a_frame_missing_from_the_context(tiny, tmp_path):
    root, config, checkpoint = tiny
    result = run_tool([
        'tools/test_video.py', config, checkpoint, '--work-dir',
        str(tmp_path), '--context-frames',
        str(SEQUENCE_LENGTH)
    ],
                      check=False)
    assert result.returncode != 0
    first_missing = f'synthcity_000000_{20 - SEQUENCE_LENGTH - 1:06d}'
    assert osp.join(sequence_folder(root), first_missing) in result.stderr


def test_video_demo_on_a_folder_writes_the_overlays(tiny, tmp_path):
    root, config, checkpoint = tiny
    frames = sorted(glob.glob(osp.join(sequence_folder(root), '*.png')))
    result = run_tool([
        'tools/video_demo.py', config, checkpoint,
        sequence_folder(root), '--out-file',
        str(tmp_path / 'overlay.mp4'), '--out-frames-dir',
        str(tmp_path / 'pngs')
    ])
    assert 'FPS' in result.stdout
    assert count_video_frames(str(tmp_path / 'overlay.mp4')) == len(frames)
    pngs = sorted(glob.glob(str(tmp_path / 'pngs' / '*.png')))
    assert [osp.basename(path)
            for path in pngs] == [osp.basename(path) for path in frames]
    assert mmcv.imread(pngs[0]).shape == mmcv.imread(frames[0]).shape


def test_video_demo_on_a_video_file(tiny, tmp_path):
    root, config, checkpoint = tiny
    frames = sorted(glob.glob(osp.join(sequence_folder(root), '*.png')))
    first = mmcv.imread(frames[0])
    writer = cv2.VideoWriter(
        str(tmp_path / 'input.mp4'), cv2.VideoWriter_fourcc(*'mp4v'), 17.0,
        (first.shape[1], first.shape[0]))
    for path in frames:
        writer.write(mmcv.imread(path))
    writer.release()
    run_tool([
        'tools/video_demo.py', config, checkpoint,
        str(tmp_path / 'input.mp4'), '--work-dir',
        str(tmp_path / 'work')
    ])
    assert count_video_frames(str(tmp_path / 'work' /
                                  'input_overlay.mp4')) == len(frames)


def test_video_demo_names_an_unreadable_video(tiny, tmp_path):
    _, config, checkpoint = tiny
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(b'not a video')
    result = run_tool(['tools/video_demo.py', config, checkpoint,
                       str(broken)],
                      check=False)
    assert result.returncode != 0
    assert str(broken) in result.stderr
