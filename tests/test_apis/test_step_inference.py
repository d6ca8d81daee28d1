"""Image inference as MMSeg users do it (mmseg.apis, MMSegInferencer) with
our configs and a checkpoint read by the weights_only-safe loader."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from mmseg.apis import (MMSegInferencer, inference_model, init_model,
                        show_result_pyplot)
from mmseg_convlstm.apis.step_inference import (dataset_meta, init_step_model,
                                                predict_step_labels,
                                                request_steps)
from mmseg_convlstm.engine import UnsafeCheckpointError
from tests.checkpoints import save_random_checkpoint
from tests.tools_runner import DEMO_CONFIG

HEIGHT, WIDTH = 72, 104


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return save_random_checkpoint(
        DEMO_CONFIG, str(tmp_path_factory.mktemp('ckpt') / 'random.pth'))


@pytest.fixture(scope='module')
def image():
    """A BGR image, as mmcv reads files."""
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (HEIGHT, WIDTH, 3), dtype=np.uint8)


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_init_inference_and_show_as_in_mmseg(checkpoint, image, tmp_path):
    model = init_model(DEMO_CONFIG, checkpoint, device='cpu')
    assert model.dataset_meta['classes'][2] == 'bicycle'
    result = inference_model(model, image)
    assert result.pred_sem_seg.data.shape == (1, HEIGHT, WIDTH)
    steps = result.pred_sem_seg_steps.data
    assert steps.shape == (5, HEIGHT, WIDTH)
    assert torch.equal(steps[-1], result.pred_sem_seg.data[0])
    drawn = show_result_pyplot(
        model, image, result, show=False, out_file=str(tmp_path / 'o.png'))
    assert drawn.shape == (HEIGHT, WIDTH, 3)
    assert Image.open(tmp_path / 'o.png').size == (WIDTH, HEIGHT)


def test_fewer_steps_predict_what_the_first_steps_of_more_do(
        checkpoint, image):
    cfg = Config.fromfile(DEMO_CONFIG)
    cfg.model.test_cfg.num_steps = 2
    cfg.model.test_cfg.return_all_steps = False
    two_steps = inference_model(init_model(cfg, checkpoint, 'cpu'), image)
    assert 'pred_sem_seg_steps' not in two_steps
    all_steps = predict_step_labels(
        init_step_model(DEMO_CONFIG, checkpoint, [5]), image)
    assert not np.array_equal(all_steps[1], all_steps[4])
    np.testing.assert_array_equal(two_steps.pred_sem_seg.data[0].numpy(),
                                  all_steps[1])


def test_mmseg_inferencer(checkpoint, image, tmp_path):
    inferencer = MMSegInferencer(
        model=DEMO_CONFIG, weights=checkpoint, device='cpu')
    results = inferencer([image, image],
                         out_dir=str(tmp_path),
                         return_datasamples=False)
    assert len(results['predictions']) == 2
    assert results['predictions'][0].shape == (HEIGHT, WIDTH)
    assert len(list((tmp_path / 'vis').glob('*.jpg'))) == 2
    saved = np.asarray(Image.open(tmp_path / 'pred' / '00000000_pred.png'))
    np.testing.assert_array_equal(saved, results['predictions'][0])


def test_real_photograph(checkpoint):
    data = pytest.importorskip('skimage.data')
    photo = data.chelsea()[::2, ::2, ::-1].copy()  # BGR, 150 x 226
    labels = predict_step_labels(
        init_step_model(DEMO_CONFIG, checkpoint, [1, 3]), photo)
    assert labels.shape == (3, *photo.shape[:2])
    assert labels.max() < 21


def test_request_steps_runs_up_to_the_largest():
    cfg = Config.fromfile(DEMO_CONFIG)
    assert request_steps(cfg, [4, 2]) == [2, 4]
    assert cfg.model.test_cfg.num_steps == 4
    assert cfg.model.test_cfg.return_all_steps
    assert request_steps(Config.fromfile(DEMO_CONFIG)) == [1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match='counted from 1'):
        request_steps(cfg, [0, 2])


def test_palette_without_a_checkpoint_comes_from_the_dataset():
    model = init_step_model(DEMO_CONFIG, None, [1])
    meta = dataset_meta(model)
    assert meta['classes'][15] == 'person'
    assert len(meta['palette']) == 21


def test_unsafe_checkpoint_is_refused(tmp_path):
    path = tmp_path / 'unsafe.pth'
    torch.save({'state_dict': {}, 'meta': {'x': np.zeros(2)}}, path)
    with pytest.raises(UnsafeCheckpointError, match='numpy'):
        init_model(DEMO_CONFIG, str(path), device='cpu')
