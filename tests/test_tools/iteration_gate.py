"""A test-only hook that stops training at one iteration until the test
lets it go, so that a fault is injected at a known iteration instead of
whenever a poll of the log happens to notice it."""
import os
import os.path as osp
import time

from mmengine.hooks import Hook

REACHED, RELEASE = 'reached', 'release'


class IterationGateHook(Hook):
    """After training iteration ``iteration`` (1-based), once the
    checkpoint hook has run and before the preemption hook does, writes
    ``<folder>/reached`` and waits until ``<folder>/release`` exists.

    Register it with :func:`gate_options`.
    """

    def __init__(self, folder: str, iteration: int,
                 timeout: float = 300) -> None:
        self.folder, self.iteration, self.timeout = folder, iteration, timeout

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        if runner.iter + 1 != self.iteration:
            return
        with open(osp.join(self.folder, REACHED), 'w') as file:
            file.write(str(self.iteration))
        deadline = time.monotonic() + self.timeout
        while not osp.exists(osp.join(self.folder, RELEASE)):
            if time.monotonic() > deadline:
                raise TimeoutError(f'{RELEASE} not written in {self.timeout}s')
            # Signals that arrive meanwhile run their handlers at once.
            time.sleep(0.01)


def gate_options(folder: str, iteration: int):
    """--cfg-options registering :class:`IterationGateHook` (the tool must
    run with the repository on ``PYTHONPATH``)."""
    os.makedirs(folder, exist_ok=True)
    return [
        f'default_hooks.gate.type={__name__}.{IterationGateHook.__name__}',
        f'default_hooks.gate.folder={folder}',
        f'default_hooks.gate.iteration={iteration}',
        # After CheckpointHook (VERY_LOW, 90), before PreemptionHook
        # (LOWEST, 100).
        'default_hooks.gate.priority=95',
    ]


def reached(folder: str) -> bool:
    return osp.exists(osp.join(folder, REACHED))


def release(folder: str) -> None:
    open(osp.join(folder, RELEASE), 'w').close()
