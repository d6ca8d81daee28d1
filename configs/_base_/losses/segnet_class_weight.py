# SegNet's median-frequency balancing weights of CamVid's 11 classes (its
# segnet_train.prototxt; ../shared/camvid/README.md) on the decode and the
# auxiliary losses of a model with both heads (the auxiliary one at 0.4, as
# MMSeg's bases weigh it). ClassWeightedCrossEntropyLoss is MMSeg's
# CrossEntropyLoss averaged over the pixels not ignored, which MMSeg 1.2.2
# cannot do on batches with void (255) pixels. Use:
#   _base_ = ['MODEL_CONFIG.py', '../_base_/losses/segnet_class_weight.py']
#   model = {{_base_.segnet_class_weighted_losses}}
segnet_class_weight = [
    0.2595, 0.1826, 4.5640, 0.1417, 0.9051, 0.3826, 9.6446, 1.8418, 0.6823,
    6.2478, 7.3614
]
segnet_class_weighted_losses = dict(
    decode_head=dict(
        loss_decode=dict(
            type='ClassWeightedCrossEntropyLoss',
            class_weight=segnet_class_weight,
            loss_weight=1.0)),
    auxiliary_head=dict(
        loss_decode=dict(
            type='ClassWeightedCrossEntropyLoss',
            class_weight=segnet_class_weight,
            loss_weight=0.4)))
