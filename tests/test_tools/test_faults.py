"""Faults injected into tools/train.py and tools/test.py runs: kill -9,
preemption (SIGTERM), truncated, corrupt and code-carrying checkpoints, a
loss that turns NaN and an empty split."""
import glob
import os
import os.path as osp
import random
import re
import shutil
import signal
import socket

import pytest
import torch

from mmseg_convlstm.datasets import make_voc_tree
from mmseg_convlstm.engine import (PREEMPTION_EXIT_CODE,
                                   load_checkpoint_safely)
from tests.tools_runner import DEMO_CONFIG, REPO, run_tool, scalars
from .fault_runs import (kill_when_file_appears, last_run_losses,
                         logged_iterations, start_tool, train_args,
                         tiny_options, wait_until, worker_pid)
from .iteration_gate import gate_options, reached, release

ITERATIONS, INTERVAL = 6, 2
SEED = 18  # of the iteration the preemption test signals at


class WritesMarker:
    """Pickles into a call that creates ``path`` when unpickled."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.mkdir, (self.path, )


@pytest.fixture(scope='module')
def reference(tmp_path_factory, voc_root):
    """An uninterrupted run, checkpoints at iterations 2, 4 and 6."""
    work_dir = str(tmp_path_factory.mktemp('uninterrupted'))
    run_tool(train_args(work_dir, tiny_options(voc_root, ITERATIONS,
                                               INTERVAL)))
    return work_dir


def _resumed_iteration(output):
    return int(re.search(r'resumed epoch: \d+, iter: (\d+)', output).group(1))


def _assert_same_losses(resumed, uninterrupted):
    for iteration, record in resumed.items():
        expected = uninterrupted[iteration]
        assert {'loss', 'decode.loss_ce', 'decode.ce_step2'} <= set(record)
        for key in record:
            if 'time' not in key:  # loss, lr, every step's loss, accuracy
                assert record[key] == expected[key], (iteration, key)


def test_kill_9_mid_run_then_resume_gives_the_uninterrupted_losses(
        reference, voc_root, tmp_path):
    work_dir, gate = str(tmp_path), str(tmp_path / 'gate')
    # Held after iteration INTERVAL, once its checkpoint is saved, and
    # killed there.
    long_run = tiny_options(voc_root, 1000, INTERVAL) + gate_options(
        gate, INTERVAL)
    kill_when_file_appears(
        train_args(work_dir, long_run),
        osp.join(gate, 'reached'),
        PYTHONPATH=REPO)
    assert osp.isfile(osp.join(work_dir, f'iter_{INTERVAL}.pth'))

    result = run_tool(
        train_args(work_dir, tiny_options(voc_root, ITERATIONS, INTERVAL),
                   '--resume'))

    start = _resumed_iteration(result.stdout + result.stderr)
    assert start >= INTERVAL
    assert start == INTERVAL
    resumed = last_run_losses(work_dir)
    assert sorted(resumed) == list(range(start + 1, ITERATIONS + 1))
    _assert_same_losses(resumed, last_run_losses(reference))


def _preempted_checkpoint(work_dir):
    """The iteration of the one checkpoint of a run whose checkpoint
    interval was never reached, the one the preemption wrote."""
    paths = glob.glob(osp.join(work_dir, 'iter_*.pth'))
    assert len(paths) == 1, f'one checkpoint expected, found {paths}'
    iteration = int(re.search(r'iter_(\d+)\.pth$', paths[0]).group(1))
    assert load_checkpoint_safely(paths[0])['meta']['iter'] == iteration
    return iteration


def _weights(path):
    return load_checkpoint_safely(path)['state_dict']


def test_sigterm_at_a_random_iteration_then_resume_gives_the_uninterrupted_run(
        reference, voc_root, tmp_path):
    work_dir, log = str(tmp_path), str(tmp_path / 'preempted.log')
    gate = str(tmp_path / 'gate')
    signalled_after = random.Random(SEED).randint(1, ITERATIONS - 1)
    # Training waits after that iteration until the signal was sent.
    options = tiny_options(voc_root, 1000, 1000) + gate_options(
        gate, signalled_after)
    process = start_tool(
        train_args(work_dir, options), log, PYTHONPATH=REPO)
    wait_until(process, lambda: reached(gate),
               f'iteration {signalled_after} was reached')
    assert signalled_after in logged_iterations(work_dir)
    process.send_signal(signal.SIGTERM)
    release(gate)

    assert process.wait(timeout=300) == PREEMPTION_EXIT_CODE, open(
        log).read()[-3000:]
    stopped = _preempted_checkpoint(work_dir)
    assert signalled_after <= stopped < ITERATIONS, signalled_after
    assert stopped == signalled_after
    assert f'preempted: the checkpoint of iteration {stopped} is saved' in (
        open(log).read())

    result = run_tool(
        train_args(work_dir, tiny_options(voc_root, ITERATIONS, INTERVAL),
                   '--resume'))

    assert _resumed_iteration(result.stdout + result.stderr) == stopped
    resumed = last_run_losses(work_dir)
    assert sorted(resumed) == list(range(stopped + 1, ITERATIONS + 1))
    _assert_same_losses(resumed, last_run_losses(reference))
    final, expected = (_weights(osp.join(directory, f'iter_{ITERATIONS}.pth'))
                       for directory in (work_dir, reference))
    assert final.keys() == expected.keys()
    for name in final:
        assert torch.equal(final[name], expected[name]), name


def _logged_values(work_dir):
    """Every logged record (training and validation) without timings."""
    return [{
        key: value
        for key, value in record.items()
        if 'time' not in key and key != 'memory'
    } for record in scalars(work_dir)]


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs a CUDA device')
def test_deterministic_cuda_training_and_validation_repeat_exactly(
        reference, voc_root, tmp_path):
    # On a CUDA machine the reference ran on the GPU too.
    options = tiny_options(voc_root, ITERATIONS, INTERVAL)
    run_tool(train_args(str(tmp_path), options))
    repeated, first = (_logged_values(work_dir)
                       for work_dir in (str(tmp_path), reference))
    assert any('mIoU@2' in record for record in first)
    assert repeated == first
    final, expected = (_weights(osp.join(directory, f'iter_{ITERATIONS}.pth'))
                       for directory in (str(tmp_path), reference))
    for name in final:
        assert torch.equal(final[name], expected[name]), name


def _free_port():
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        return str(probe.getsockname()[1])


def test_sigterm_to_one_rank_stops_both_ranks_after_one_checkpoint(
        voc_root, tmp_path):
    work_dir, log = str(tmp_path / 'work'), str(tmp_path / 'torchrun.log')
    gate = str(tmp_path / 'gate')
    # Both ranks wait after iteration 1 until the signal was sent (the
    # gradients' all-reduce keeps them in step: when one rank is there, the
    # other has run the iteration's backward pass, its handlers installed).
    options = tiny_options(voc_root, 1000, 1000) + [
        'train_dataloader.num_workers=1'
    ] + gate_options(gate, 1)
    process = start_tool([
        'tools/dist_train.sh', DEMO_CONFIG, '2', '--work-dir', work_dir,
        '--cfg-options', *options
    ],
                         log,
                         command='bash',
                         PORT=_free_port())
    wait_until(process, lambda: reached(gate), 'iteration 1 was reached')
    rank_1 = worker_pid(work_dir, local_rank=1)
    assert rank_1 is not None, 'no process of rank 1 found'
    # torchrun starts each rank in its own process group: this signals rank
    # 1 and its dataloader worker, as a scheduler signals a job's processes.
    assert os.getpgid(rank_1) == rank_1
    os.killpg(rank_1, signal.SIGTERM)
    release(gate)

    process.wait(timeout=300)
    output = open(log).read()
    stopped = _preempted_checkpoint(work_dir)
    assert stopped == 1, output[-3000:]
    assert "env_cfg.dist_cfg.backend='nccl' needs CUDA GPUs" in output
    # Rank 0 was not signalled: it stopped because rank 1 was.
    assert ('preemption (signal on another rank): stopping after iteration '
            f'{stopped}') in output, output[-3000:]
    # torchrun's summary: each rank exited with the preemption code.
    assert output.count(f'exitcode  : {PREEMPTION_EXIT_CODE} ') == 2, output[
        -3000:]


def test_auto_resume_skips_truncated_and_unsafe_newer_checkpoints(
        reference, voc_root, tmp_path):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    marker = tmp_path / 'code_ran'
    shutil.copy(osp.join(reference, 'iter_2.pth'), work_dir)
    torch.save(dict(meta={}, state_dict={}, extra=WritesMarker(str(marker))),
               work_dir / 'iter_4.pth')
    data = open(osp.join(reference, 'iter_6.pth'), 'rb').read()
    (work_dir / 'iter_6.pth').write_bytes(data[:len(data) // 2])
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'iter_6.pth'))

    result = run_tool(
        train_args(
            str(work_dir), tiny_options(voc_root, ITERATIONS, INTERVAL),
            '--resume'))

    output = result.stdout + result.stderr
    for step in (6, 4):
        assert f'auto resume skips checkpoint {work_dir}/iter_{step}.pth' in (
            output)
    assert _resumed_iteration(output) == 2
    assert not marker.exists()
    resumed = last_run_losses(str(work_dir))
    assert sorted(resumed) == [3, 4, 5, 6]
    _assert_same_losses(resumed, last_run_losses(reference))


def _truncated_copy(reference, tmp_path):
    data = open(osp.join(reference, 'iter_4.pth'), 'rb').read()
    path = tmp_path / 'iter_4.pth'
    path.write_bytes(data[:len(data) - 1000])
    return str(path)


def test_resuming_from_a_named_truncated_checkpoint_names_it(
        reference, voc_root, tmp_path):
    checkpoint = _truncated_copy(reference, tmp_path)
    result = run_tool(
        train_args(
            str(tmp_path / 'work'),
            tiny_options(voc_root, ITERATIONS, INTERVAL), '--resume',
            checkpoint),
        check=False)
    assert result.returncode != 0
    assert (f'UnreadableCheckpointError: cannot read checkpoint {checkpoint}'
            in result.stderr)


@pytest.mark.parametrize('damage', ['truncated', 'unsafe'])
def test_test_tool_refuses_a_bad_checkpoint_naming_it(reference, voc_root,
                                                      tmp_path, damage):
    marker = tmp_path / 'code_ran'
    if damage == 'truncated':
        checkpoint = _truncated_copy(reference, tmp_path)
        error = ('UnreadableCheckpointError: cannot read checkpoint '
                 f'{checkpoint}')
    else:
        checkpoint = load_checkpoint_safely(
            osp.join(reference, 'iter_4.pth'))
        checkpoint['meta']['note'] = WritesMarker(str(marker))
        torch.save(checkpoint, tmp_path / 'iter_4.pth')
        checkpoint = str(tmp_path / 'iter_4.pth')
        error = (f'UnsafeCheckpointError: refused to load checkpoint '
                 f'{checkpoint}')

    result = run_tool([
        'tools/test.py', DEMO_CONFIG, checkpoint, '--work-dir',
        str(tmp_path / 'test'), '--cfg-options',
        *tiny_options(voc_root, ITERATIONS, INTERVAL)
    ],
                      check=False)

    assert result.returncode != 0
    assert error in result.stderr
    if damage == 'unsafe':
        assert 'posix.mkdir' in result.stderr
    assert not marker.exists()


def test_a_nan_loss_stops_training_naming_the_iteration(voc_root, tmp_path):
    options = tiny_options(voc_root, ITERATIONS, 1) + [
        'optim_wrapper.optimizer.lr=1e30'
    ]
    result = run_tool(train_args(str(tmp_path), options), check=False)

    assert result.returncode != 0
    (iteration, ) = re.findall(
        r'NonFiniteLossError: the training loss is (?:nan|inf) at '
        r'iteration (\d+)', result.stderr)
    logged = last_run_losses(str(tmp_path))
    assert sorted(logged) == list(range(1, int(iteration)))
    for step in logged:
        state = load_checkpoint_safely(str(tmp_path / f'iter_{step}.pth'))
        assert all(
            torch.isfinite(weights).all()
            for weights in state['state_dict'].values())


def test_a_nan_loss_can_be_skipped_instead(voc_root, tmp_path):
    options = tiny_options(voc_root, ITERATIONS, ITERATIONS) + [
        'optim_wrapper.optimizer.lr=1e30',
        'optim_wrapper.non_finite_loss=skip'
    ]
    result = run_tool(train_args(str(tmp_path), options))

    skipped = re.findall(
        r'the training loss is (?:nan|inf) at iteration (\d+): skipped',
        result.stdout + result.stderr)
    assert skipped
    state = load_checkpoint_safely(str(tmp_path / f'iter_{ITERATIONS}.pth'))
    assert all(
        torch.isfinite(weights).all()
        for weights in state['state_dict'].values())


def test_an_empty_split_stops_training_at_once(tmp_path):
    data_root = make_voc_tree(str(tmp_path / 'data'), dict(train=2, val=1),
                              image_size=(40, 50))
    empty = osp.join(data_root, 'ImageSets', 'Segmentation', 'empty.txt')
    open(empty, 'w').close()
    options = tiny_options(data_root, ITERATIONS, INTERVAL) + [
        'train_dataloader.dataset.ann_file=ImageSets/Segmentation/empty.txt',
        'train_dataloader.num_workers=2'
    ]

    result = run_tool(
        train_args(str(tmp_path / 'work'), options), check=False, timeout=300)

    assert result.returncode != 0
    assert f'PascalVOCDataset ({empty}) has no samples' in result.stderr
