from .atomic_checkpoint_hook import AtomicCheckpointHook
from .atomic_local_backend import AtomicLocalBackend, write_atomically
from .checkpoint_fit import (CheckpointMismatchError, check_checkpoint_fits,
                             compare_weights)
from .class_count_check_hook import ClassCountCheckHook
from .crop_size_check_hook import CropSizeCheckHook
from .deterministic_check import (check_deterministic_training,
                                  interpolated_losses)
from .guarded_runner import (GuardedRunner, checkpoint_candidates,
                             newest_loadable_checkpoint)
from .launch_check import check_launch
from .non_finite_loss_amp_optim_wrapper import NonFiniteLossAmpOptimWrapper
from .non_finite_loss_optim_wrapper import (NonFiniteLossError,
                                            NonFiniteLossGuard,
                                            NonFiniteLossOptimWrapper)
from .preemption_hook import (PREEMPTION_EXIT_CODE, PreemptionHook,
                              shield_workers)
from .safe_checkpoint import (UnreadableCheckpointError, UnsafeCheckpointError,
                              load_checkpoint_safely,
                              register_safe_local_loader,
                              restore_history_buffers, to_plain_data)
from .safe_checkpoint_hook import SafeCheckpointHook
from .step_grid_hook import StepGridHook

__all__ = [
    'AtomicCheckpointHook', 'AtomicLocalBackend', 'CropSizeCheckHook',
    'GuardedRunner', 'NonFiniteLossAmpOptimWrapper', 'NonFiniteLossError',
    'NonFiniteLossGuard', 'NonFiniteLossOptimWrapper',
    'checkpoint_candidates', 'newest_loadable_checkpoint', 'write_atomically',
    'ClassCountCheckHook', 'SafeCheckpointHook', 'UnreadableCheckpointError',
    'UnsafeCheckpointError', 'load_checkpoint_safely',
    'register_safe_local_loader', 'restore_history_buffers', 'to_plain_data',
    'StepGridHook', 'PREEMPTION_EXIT_CODE', 'PreemptionHook',
    'check_launch', 'shield_workers', 'check_deterministic_training',
    'interpolated_losses', 'CheckpointMismatchError', 'check_checkpoint_fits',
    'compare_weights'
]
