"""carried_labels: the labels that a reset inferencer carries to the frames
shown, after the context frames and every frame between them."""
import mmcv
import numpy as np
import pytest

from mmseg_convlstm.apis import RecurrentVideoInferencer, carried_labels
from tests.test_apis.test_recurrent_video_inferencer import sequence_frames


@pytest.fixture
def canvas_labels(monkeypatch):
    """Makes the labels of a frame its whole canvas in thousandths: the
    tiny random model labels every pixel alike whatever state it carried,
    which would hide a wrong context or a missing reset."""
    monkeypatch.setattr(RecurrentVideoInferencer, 'labels',
                        lambda self, canvas, _: (canvas[0] * 1000).round())


def streamed_from(model, frames, first):
    """The labels of every frame from ``first`` on, streamed through a
    fresh inferencer, by frame index."""
    inferencer = RecurrentVideoInferencer(model, steps_per_frame=2)
    return {
        index: inferencer(frames[index]).labels.numpy()
        for index in range(first, len(frames))
    }


@pytest.mark.parametrize(
    'shown, context, first_streamed', [([2, 3], 1, 1), ([1, 3], 5, 0),
                                       ([3], 0, 3)],
    ids=['context', 'stride-and-context-beyond-the-start', 'no-context'])
def test_shown_labels_are_those_of_streaming_every_frame(
        model, video_root, canvas_labels, shown, context, first_streamed):
    frames = sequence_frames(video_root)
    inferencer = RecurrentVideoInferencer(model, steps_per_frame=2)
    inferencer(frames[0])  # a state that the reset must forget
    labels = carried_labels(inferencer, frames, shown, context)
    reference = streamed_from(model, frames, first_streamed)
    np.testing.assert_array_equal(labels,
                                  np.stack([reference[i] for i in shown]))


def test_the_context_changes_the_carried_labels(model, video_root,
                                                canvas_labels):
    frames = sequence_frames(video_root)
    inferencer = RecurrentVideoInferencer(model, steps_per_frame=2)
    cold = carried_labels(inferencer, frames, [3], context=0)
    assert not np.array_equal(cold, carried_labels(inferencer, frames, [3], 3))


def test_labels_are_at_the_frames_size(model, video_root):
    frames = sequence_frames(video_root)
    labels = carried_labels(
        RecurrentVideoInferencer(model), frames, [1, 2], context=1)
    assert labels.shape == (2, *mmcv.imread(frames[0]).shape[:2])
    assert labels.dtype.kind == 'i'


@pytest.mark.parametrize('shown, message',
                         [([], 'increasing'), ([3, 2], 'increasing'),
                          ([2, 2], 'increasing'),
                          ([2, 4], r'not all among the 4 frames'),
                          ([-1, 0], r'not all among the 4 frames')])
def test_shown_frames_not_increasing_or_missing_are_errors(
        model, video_root, shown, message):
    with pytest.raises(ValueError, match=message):
        carried_labels(
            RecurrentVideoInferencer(model), sequence_frames(video_root),
            shown)
