"""ClipRecurrentEncoderDecoder trains through the frames of a clip as the
video inferencer runs them: its loss is that of the streamed canvases, and
the gradient flows back through the carried state."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from torch.testing import assert_close

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg_convlstm.apis import RecurrentVideoInferencer
from tests.video_helpers import tiny_video_config

NUM_CLIPS, NUM_FRAMES, SIZE = 2, 3, (33, 65)


def build_model(tmp_path, head_cfg=None, **train_cfg):
    cfg = Config.fromfile(
        tiny_video_config(str(tmp_path / 'tiny.py'), str(tmp_path)))
    cfg.model.decode_head.update(head_cfg or {})
    cfg.model.update(
        type='ClipRecurrentEncoderDecoder',
        data_preprocessor=dict(
            cfg.model.data_preprocessor, type='ClipSegDataPreProcessor'),
        train_cfg=train_cfg)
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.cfg = cfg
    # Batch statistics would differ between the context and the last
    # frames' backbone passes; running statistics make the passes exact.
    model.eval()
    return model


def clip_batch(num_labelled=NUM_FRAMES):
    torch.manual_seed(1)
    inputs = torch.randn(NUM_CLIPS, NUM_FRAMES, 3, *SIZE)
    samples = []
    for _ in range(NUM_CLIPS):
        labels = torch.randint(0, 19, (num_labelled, *SIZE))
        samples.append(
            SegDataSample(
                metainfo=dict(img_shape=SIZE, pad_shape=SIZE),
                gt_sem_seg=PixelData(data=labels)))
    return inputs, samples


def streamed_canvases(model, inputs, canvas_decay):
    """Reference: the clips streamed frame by frame through the video
    inferencer (1 step per frame)."""
    inferencer = RecurrentVideoInferencer(
        model, steps_per_frame=1, canvas_decay=canvas_decay)
    canvases = []
    for frame in inputs.unbind(1):
        canvas, _ = inferencer.advance(inferencer.extract_features(frame))
        canvases.append(canvas)
    return canvases


def frame_samples(samples, frame):
    return [
        SegDataSample(
            metainfo=sample.metainfo,
            gt_sem_seg=PixelData(data=sample.gt_sem_seg.data[frame:frame + 1]))
        for sample in samples
    ]


@pytest.mark.parametrize('loss_frames, canvas_decay, head_cfg',
                         [('all', 1.0, None), ('last', 1.0, None),
                          ('all', 0.5, None),
                          ('all', 0.5, dict(init_canvas=True))])
def test_the_loss_is_that_of_the_streamed_canvases(tmp_path, loss_frames,
                                                   canvas_decay, head_cfg):
    model = build_model(
        tmp_path,
        head_cfg,
        loss_frames=loss_frames,
        canvas_decay=canvas_decay)
    inputs, samples = clip_batch()
    losses = model.loss(inputs, samples)
    with torch.no_grad():
        canvases = streamed_canvases(model, inputs, canvas_decay)
    frames = range(NUM_FRAMES) if loss_frames == 'all' else [NUM_FRAMES - 1]
    expected = [
        model.decode_head.loss_by_feat(canvases[frame],
                                       frame_samples(samples,
                                                     frame))['loss_ce']
        for frame in frames
    ]
    for frame, value in zip(frames, expected):
        assert_close(losses[f'decode.ce_frame{frame}'], value)
    assert_close(losses['decode.loss_ce'], sum(expected) / len(expected))
    assert sorted(key for key in losses if '_frame' in key) == [
        f'decode.ce_frame{frame}' for frame in frames
    ]


def test_only_the_last_frame_has_labels_in_cityscapes_clips(tmp_path):
    model = build_model(tmp_path, loss_frames='all')
    inputs, samples = clip_batch(num_labelled=1)
    losses = model.loss(inputs, samples)
    assert [key for key in losses
            if '_frame' in key] == [f'decode.ce_frame{NUM_FRAMES - 1}']


@pytest.mark.parametrize('context_backbone_grad', [True, False])
def test_the_gradient_flows_back_through_the_carried_state(
        tmp_path, context_backbone_grad):
    model = build_model(
        tmp_path,
        loss_frames='last',
        context_backbone_grad=context_backbone_grad)
    inputs, samples = clip_batch()
    inputs.requires_grad_(True)
    model.loss(inputs, samples)['decode.loss_ce'].backward()
    first_frame_grad = inputs.grad[:, 0].abs().sum()
    assert (first_frame_grad > 0) == context_backbone_grad
    # The head learns from the first frame through the carried state
    # either way.
    bottom_cell = model.decode_head.cells[0]
    assert all(parameter.grad.abs().sum() > 0
               for parameter in bottom_cell.parameters())


def test_frozen_features_keep_their_weights_and_statistics(tmp_path):
    model = build_model(tmp_path, freeze_features=True)
    model.train()
    assert not any(module.training for module in model.backbone.modules())
    assert model.decode_head.training
    before = {
        key: value.clone()
        for key, value in model.state_dict().items()
        if not key.startswith('decode_head.')
    }
    optimizer = torch.optim.SGD(
        [p for p in model.parameters() if p.requires_grad], lr=0.1)
    inputs, samples = clip_batch()
    model.loss(inputs, samples)['decode.loss_ce'].backward()
    optimizer.step()
    for key, value in model.state_dict().items():
        if key in before:  # weights and running statistics alike
            assert torch.equal(value, before[key]), key
    assert all(parameter.grad.abs().sum() > 0
               for parameter in model.decode_head.parameters())
    assert all(parameter.grad is None
               for parameter in model.backbone.parameters())


def test_still_images_train_as_the_recurrent_encoder_decoder(tmp_path):
    model = build_model(tmp_path)
    inputs, samples = clip_batch(num_labelled=1)
    losses = model.loss(inputs[:, -1], samples)
    assert 'decode.loss_ce' in losses
    assert not any('_frame' in key for key in losses)


@pytest.mark.parametrize('train_cfg, key', [
    (dict(steps_per_frame=0), 'model.train_cfg.steps_per_frame'),
    (dict(loss_frames='first'), 'model.train_cfg.loss_frames'),
    (dict(canvas_decay=2.0), 'model.train_cfg.canvas_decay'),
    (dict(frames=2), 'model.train_cfg'),
])
def test_bad_train_cfg_is_named(tmp_path, train_cfg, key):
    with pytest.raises((KeyError, ValueError), match=key):
        build_model(tmp_path, **train_cfg)


def test_labels_of_another_number_of_frames_are_refused(tmp_path):
    model = build_model(tmp_path)
    inputs, samples = clip_batch(num_labelled=2)
    with pytest.raises(ValueError, match='LoadClipAnnotations'):
        model.loss(inputs, samples)
