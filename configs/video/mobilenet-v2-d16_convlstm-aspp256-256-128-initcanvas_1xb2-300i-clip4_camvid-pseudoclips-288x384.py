# The clip fine-tuning of ..._camvid-seq-pseudoclips-288x384.py on one source
# alone: pseudo-clips of 4 frames made of each still by a smooth camera motion
# like that of the 15 fps val clip.
_base_ = [
    './mobilenet-v2-d16_convlstm-aspp256-256-128-initcanvas_'
    '1xb2-300i-clip4_camvid-seq-pseudoclips-288x384.py'
]
train_dataloader = dict(
    dataset=dict(datasets=[{{_base_.pseudo_clips}}]))
