_base_ = ['mmseg::_base_/default_runtime.py']
custom_imports = dict(imports=['mmseg_convlstm'], allow_failed_imports=False)
# Auto resume from the newest checkpoint that loads; empty splits and missing
# files stop a run when its datasets are built (see
# docs/en/user_guides/faults_and_resuming.md).
runner_type = 'GuardedRunner'
custom_hooks = [
    dict(type='SafeCheckpointHook'),
    dict(type='ClassCountCheckHook'),
    dict(type='CropSizeCheckHook'),
    # SIGTERM / SIGUSR1: save after the current iteration and exit with 75,
    # which tools/slurm_train.sh requeues.
    dict(type='PreemptionHook'),
]
log_processor = dict(by_epoch=False)
# device_ids=None lets DDP wrap CPU processes (gloo) as well as one GPU per
# process; MMEngine's default passes [LOCAL_RANK], which DDP refuses on CPU.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False)
