# The paper's recipe: SGD, momentum 0.95, 30,000 updates and a poly learning
# rate (1e-3 - 1e-6)(1 - step / 30000)^0.9 + 1e-6. Its recipe names no weight
# decay.
optimizer = dict(type='SGD', lr=1e-3, momentum=0.95, weight_decay=0.0)
# A NaN or infinite loss stops training before the optimizer step.
optim_wrapper = dict(
    type='NonFiniteLossOptimWrapper', optimizer=optimizer, clip_grad=None)
# MMEngine's PolyLR divides by (end - begin - 1); end=30001 makes that the
# paper's 30,000.
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-6,
        power=0.9,
        begin=0,
        end=30001,
        by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=30000, val_interval=3000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Writes checkpoints atomically (temporary file, fsync, rename).
    checkpoint=dict(
        type='AtomicCheckpointHook',
        by_epoch=False,
        interval=3000,
        max_keep_ckpts=3,
        save_best='mIoU'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
auto_scale_lr = dict(enable=False, base_batch_size=16)
