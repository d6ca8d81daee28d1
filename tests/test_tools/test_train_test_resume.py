"""tools/train.py, tools/test.py, --resume and tools/dist_train.sh on
generated data, run as a user runs them."""
import glob
import json
import os.path as osp

import pytest
from PIL import Image

from tests.tools_runner import DEMO_CONFIG, run_tool, scalars, voc_overrides

CITYSCAPES_CONFIG = 'configs/convlstm_cityscapes.py'


def test_train_writes_a_checkpoint_and_logs_every_step_loss(trained_voc):
    assert osp.isfile(osp.join(trained_voc, 'iter_2.pth'))
    train_records = [r for r in scalars(trained_voc) if 'loss' in r]
    assert [r['iter'] for r in train_records] == [1, 2]
    for step in range(1, 6):
        assert f'decode.ce_step{step}' in train_records[0]
    validation = [r for r in scalars(trained_voc) if 'mIoU@5' in r]
    assert len(validation) == 1


def test_test_tool_reports_every_step(trained_voc, voc_root, tmp_path):
    result = run_tool([
        'tools/test.py', DEMO_CONFIG,
        osp.join(trained_voc, 'iter_2.pth'), '--work-dir',
        str(tmp_path), '--out',
        str(tmp_path / 'pred'), '--cfg-options',
        *voc_overrides(voc_root, 2)
    ])
    assert 'results after every recurrent step' in result.stdout
    (json_file, ) = glob.glob(str(tmp_path / '*' / 'anytime_iou.json'))
    with open(json_file) as file:
        steps = json.load(file)['steps']
    assert [step['step'] for step in steps] == [1, 2, 3, 4, 5]
    predictions = sorted(glob.glob(str(tmp_path / 'pred' / '*.png')))
    assert len(predictions) == 3
    image = Image.open(glob.glob(
        osp.join(voc_root, 'JPEGImages', '*val_000000.jpg'))[0])
    assert Image.open(predictions[0]).size == image.size


def test_resume_continues_from_the_saved_iteration(trained_voc, voc_root,
                                                   tmp_path):
    work_dir = tmp_path / 'resumed'
    run_tool(['tools/train.py', DEMO_CONFIG, '--work-dir',
              str(work_dir), '--cfg-options', *voc_overrides(voc_root, 2)])
    run_tool([
        'tools/train.py', DEMO_CONFIG, '--work-dir',
        str(work_dir), '--resume', '--cfg-options',
        *voc_overrides(voc_root, 4), 'default_hooks.checkpoint.interval=2'
    ])
    iterations = [r['iter'] for r in scalars(str(work_dir)) if 'loss' in r]
    assert iterations == [1, 2, 3, 4]
    assert osp.isfile(work_dir / 'iter_4.pth')


def test_resume_from_a_named_checkpoint(trained_voc, voc_root, tmp_path):
    result = run_tool([
        'tools/train.py', DEMO_CONFIG, '--work-dir',
        str(tmp_path), '--resume',
        osp.join(trained_voc, 'iter_2.pth'), '--cfg-options',
        *voc_overrides(voc_root, 3)
    ])
    assert 'resumed' in (result.stdout + result.stderr).lower()
    iterations = [r['iter'] for r in scalars(str(tmp_path)) if 'loss' in r]
    assert iterations == [3]


def test_train_and_test_on_cityscapes_layout(cityscapes_root, tmp_path):
    options = [
        f'train_dataloader.dataset.data_root={cityscapes_root}',
        f'val_dataloader.dataset.data_root={cityscapes_root}',
        f'test_dataloader.dataset.data_root={cityscapes_root}',
        'model.pretrained=None', 'model.backbone.depth=18',
        'model.decode_head.in_channels=512',
        'model.decode_head.hidden_channels=(32,16,19)',
        'model.decode_head.num_steps=2', 'model.test_cfg.num_steps=2',
        'model.data_preprocessor.size=(65,129)',
        'train_dataloader.dataset.pipeline.2.scale=(192,96)',
        'train_dataloader.dataset.pipeline.3.crop_size=(65,129)',
        'val_dataloader.dataset.pipeline.1.scale=(192,96)',
        'test_dataloader.dataset.pipeline.1.scale=(192,96)',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False', 'train_cfg.max_iters=2',
        'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2'
    ]
    run_tool([
        'tools/train.py', CITYSCAPES_CONFIG, '--work-dir',
        str(tmp_path), '--cfg-options', *options
    ])
    result = run_tool([
        'tools/test.py', CITYSCAPES_CONFIG,
        str(tmp_path / 'iter_2.pth'), '--work-dir',
        str(tmp_path / 'test'), '--cfg-options', *options
    ])
    assert 'mIoU@2' in result.stdout


def test_two_process_distributed_training_on_cpu(voc_root, tmp_path):
    run_tool([
        'tools/dist_train.sh', DEMO_CONFIG, '2', '--work-dir',
        str(tmp_path), '--cfg-options', *voc_overrides(voc_root, 2)
    ])
    log = '\n'.join(
        open(path).read() for path in glob.glob(str(tmp_path / '*' / '*.log')))
    assert 'Distributed training: True' in log
    assert 'GPU number: 2' in log
    assert osp.isfile(tmp_path / 'iter_2.pth')


@pytest.mark.parametrize('persistent', [True, False])
def test_train_and_test_end_with_dataloader_workers(voc_root, tmp_path,
                                                    persistent):
    """The workers ignore the preemption signals; the tools still end after
    their last iteration (with persistent workers, or the training loop's
    endless iterator, they used to wait for them forever at exit)."""
    workers = [
        f'{split}_dataloader.{key}={value}'
        for split in ('train', 'val', 'test')
        for key, value in (('num_workers', 1),
                           ('persistent_workers', persistent))
    ]
    run_tool([
        'tools/train.py', DEMO_CONFIG, '--work-dir',
        str(tmp_path), '--cfg-options', *voc_overrides(voc_root, 2), *workers
    ], timeout=300)
    result = run_tool([
        'tools/test.py', DEMO_CONFIG,
        str(tmp_path / 'iter_2.pth'), '--work-dir',
        str(tmp_path / 'test'), '--cfg-options',
        *voc_overrides(voc_root, 2), *workers
    ], timeout=300)
    assert 'results after every recurrent step' in result.stdout
