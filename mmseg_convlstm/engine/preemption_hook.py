import os
import signal
import sys
import threading
from functools import partial
from typing import Callable, Dict, List, Optional, Sequence

import torch
from mmengine.dist import all_reduce, barrier, is_distributed
from mmengine.hooks import CheckpointHook, Hook
from mmengine.runner import IterBasedTrainLoop
from torch.utils.data import DataLoader

from mmseg.registry import HOOKS

# sysexits.h's EX_TEMPFAIL, "try again later": tools/slurm_train.sh requeues
# a job that ends with it.
PREEMPTION_EXIT_CODE = 75
PREEMPTION_SIGNALS = ('SIGTERM', 'SIGUSR1')


def signal_numbers(names: Sequence[str]) -> List[int]:
    """The numbers of the signals called ``names`` (e.g. ``'SIGTERM'``)."""
    numbers = []
    for name in names:
        number = getattr(signal, str(name), None)
        if not isinstance(number, signal.Signals):
            raise ValueError(
                f'PreemptionHook signals: {name!r} is not a signal of this '
                'system (use names such as SIGTERM, SIGUSR1)')
        numbers.append(number)
    return numbers


def _ignore_preemption_signals(worker_init_fn: Optional[Callable],
                               worker_id: int) -> None:
    for number in signal_numbers(PREEMPTION_SIGNALS):
        signal.signal(number, signal.SIG_IGN)
    if worker_init_fn is not None:
        worker_init_fn(worker_id)


def shield_workers(dataloader: DataLoader) -> None:
    """Makes the worker processes of ``dataloader`` ignore the preemption
    signals.

    Schedulers signal every process of a job. A dataloader worker killed by
    SIGTERM makes the main process raise ``DataLoader worker ... is killed
    by signal`` at any point (torch's SIGCHLD handler), so the checkpoint of
    :class:`PreemptionHook` would never be written. Workers cannot act on
    the signal anyway: the main process stops them when it ends.
    """
    if dataloader.num_workers > 0:
        dataloader.worker_init_fn = partial(_ignore_preemption_signals,
                                            dataloader.worker_init_fn)


@HOOKS.register_module()
class PreemptionHook(Hook):
    """Stops training cleanly when the scheduler asks for the machine back.

    On one of ``signals`` (SLURM and cloud schedulers send SIGTERM, then
    SIGKILL after a grace period; ``sbatch --signal=USR1@SECONDS`` sends
    SIGUSR1 ahead of the time limit), the current iteration finishes, the
    checkpoint hook writes the checkpoint of that iteration (atomically with
    :class:`AtomicCheckpointHook`) unless it has just written it, the
    validation that may be due is skipped, and the process exits with
    :data:`PREEMPTION_EXIT_CODE` (75), for which ``tools/slurm_train.sh``
    requeues the job; the requeued job resumes from that checkpoint.

    - In distributed runs the ranks agree after every iteration (an
      all-reduce of the flag), so all of them save and stop at the same
      iteration even when only some were signalled, and none exits before
      the checkpoint is complete.
    - Further signals while stopping are counted, not obeyed: they cannot
      interrupt the save.
    - The handlers are installed when training starts and removed when the
      run ends; after a preemption the signals are ignored until the
      process has exited, so that the exit code survives a launcher that
      signals the ranks still ending. A signal during a validation takes
      effect after it; one during the last iteration is only logged, as
      training is then complete.

    Needs an iteration-based loop and an iteration-based checkpoint hook
    (``default_hooks.checkpoint``).

    Args:
        signals (Sequence[str]): Names of the signals that stop training.
            Default: ``('SIGTERM', 'SIGUSR1')``.
    """

    priority = 'LOWEST'  # after CheckpointHook's after_train_iter

    def __init__(self, signals: Sequence[str] = PREEMPTION_SIGNALS) -> None:
        self.signals = signal_numbers(signals)
        self.received: List[int] = []
        self.stopped_at: Optional[int] = None
        self._previous_handlers: Dict[int, object] = {}

    def before_train(self, runner) -> None:
        """Checks the loop and installs the signal handlers."""
        self._checkpoint_hook(runner)
        if not isinstance(runner.train_loop, IterBasedTrainLoop):
            raise ValueError(
                'PreemptionHook needs an iteration-based loop '
                "(train_cfg.type='IterBasedTrainLoop'); remove it from "
                'custom_hooks for epoch-based training')
        if threading.current_thread() is not threading.main_thread():
            runner.logger.warning(
                'PreemptionHook: training runs outside the main thread, '
                'where Python cannot catch signals; preemption is not handled')
            return
        for number in self.signals:
            self._previous_handlers[number] = signal.signal(
                number, self._on_signal)

    def _on_signal(self, number: int, frame) -> None:
        # Only record: the handler may run in the middle of any code,
        # including logging and the save.
        self.received.append(number)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        """Saves and stops when any rank was signalled."""
        if self.stopped_at is not None or not self._any_rank_signalled():
            return
        step = runner.iter + 1
        names = ', '.join(signal.Signals(n).name for n in self.received)
        if step == runner.train_loop.max_iters:
            # A requeued job would only replay the data to find it done.
            runner.logger.warning(
                f'preemption ({names or "signal on another rank"}) at the '
                'last iteration: training is complete, the run ends as usual')
            return
        runner.logger.warning(
            f'preemption ({names or "signal on another rank"}): stopping '
            f'after iteration {step}')
        saver = self._checkpoint_hook(runner)
        path = saver.file_backend.join_path(saver.out_dir,
                                            saver.filename_tmpl.format(step))
        if saver.last_ckpt != path:  # not written by its own schedule
            saver._save_checkpoint(runner)
        barrier()  # only rank 0 writes; no rank leaves before it is done
        self.stopped_at = step
        runner.train_loop.stop_training = True
        # Stop before the validation the loop would run at this iteration.
        runner.train_loop.val_begin = runner.train_loop.max_iters + 1

    def after_run(self, runner) -> None:
        """Removes the handlers; after a preemption, exits with
        :data:`PREEMPTION_EXIT_CODE`."""
        if self.stopped_at is None:
            for number, handler in self._previous_handlers.items():
                signal.signal(number, handler)
            self._previous_handlers.clear()
            return
        runner.logger.warning(
            f'preempted: the checkpoint of iteration {self.stopped_at} is '
            f'saved ({len(self.received)} signal(s) received on this rank); '
            f'exiting with code {PREEMPTION_EXIT_CODE}. Resume with '
            'tools/train.py CONFIG --resume (tools/slurm_train.sh requeues '
            'and resumes by itself)')
        self._exit(runner)

    def _exit(self, runner) -> None:
        # A launcher that sees one rank end stops the others (torchrun with
        # SIGTERM, srun --kill-on-bad-exit): a rank still tearing down would
        # then end by a signal, not with the exit code. So the signals are
        # ignored from here on (Python does not restore SIG_IGN when it
        # finalizes), and in distributed runs the ranks leave together and
        # at once, skipping the interpreter's teardown.
        for number in self._previous_handlers:
            signal.signal(number, signal.SIG_IGN)
        if not is_distributed():
            raise SystemExit(PREEMPTION_EXIT_CODE)
        barrier()
        for handler in runner.logger.handlers:
            handler.flush()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(PREEMPTION_EXIT_CODE)

    def _any_rank_signalled(self) -> bool:
        flag = torch.tensor(int(bool(self.received)))
        all_reduce(flag, op='max')
        return bool(flag.item())

    @staticmethod
    def _checkpoint_hook(runner) -> CheckpointHook:
        for hook in runner.hooks:
            if isinstance(hook, CheckpointHook) and not hook.by_epoch:
                return hook
        raise ValueError(
            'PreemptionHook needs an iteration-based checkpoint hook: set '
            "default_hooks.checkpoint=dict(type='AtomicCheckpointHook', "
            'by_epoch=False, ...)')
