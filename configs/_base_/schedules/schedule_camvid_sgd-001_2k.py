# The CamVid recipe of schedule_camvid_sgd-001.py run 2,000 iterations at
# batch 8 (44 epochs of the 367 training frames): what one GPU trains in
# minutes, the same for every CamVid model. A config inheriting a 500-iteration
# CamVid config takes these keys over its own (they would clash as two bases).
schedule_2k_iterations = 2000
schedule_2k = dict(
    train_dataloader=dict(batch_size=8),
    param_scheduler=[
        dict(
            type='PolyLR',
            eta_min=1e-4,
            power=0.9,
            begin=0,
            end=schedule_2k_iterations,
            by_epoch=False)
    ],
    train_cfg=dict(max_iters=schedule_2k_iterations, val_interval=500),
    default_hooks=dict(checkpoint=dict(interval=1000)))
