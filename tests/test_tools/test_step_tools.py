"""tools/visualize_steps.py and demo/image_demo.py, as a user runs them."""
import numpy as np
import pytest
from PIL import Image

from tests.checkpoints import save_random_checkpoint
from tests.tools_runner import DEMO_CONFIG, run_tool


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return save_random_checkpoint(
        DEMO_CONFIG, str(tmp_path_factory.mktemp('ckpt') / 'random.pth'))


def test_visualize_steps_with_ground_truth(voc_root, checkpoint, tmp_path):
    image = f'{voc_root}/JPEGImages/2007_val_000000.jpg'
    out = tmp_path / 'grid.png'
    run_tool([
        'tools/visualize_steps.py', DEMO_CONFIG, checkpoint, image, '--steps',
        '1', '2', '5', '--gt',
        f'{voc_root}/SegmentationClass/2007_val_000000.png', '--out',
        str(out)
    ])
    width, height = Image.open(out).size
    # image, three steps and the ground truth side by side.
    assert width > 4 * height


def test_visualize_steps_names_a_missing_image(checkpoint, tmp_path):
    missing = str(tmp_path / 'no_such.jpg')
    result = run_tool(
        ['tools/visualize_steps.py', DEMO_CONFIG, checkpoint, missing],
        check=False)
    assert result.returncode != 0
    assert missing in result.stderr


def test_image_demo_on_a_real_photograph(checkpoint, tmp_path):
    data = pytest.importorskip('skimage.data')
    photo = tmp_path / 'chelsea.png'
    Image.fromarray(data.chelsea()[::2, ::2]).save(photo)
    out = tmp_path / 'result.png'
    run_tool([
        'demo/image_demo.py',
        str(photo), DEMO_CONFIG, checkpoint, '--steps', '2', '--device', 'cpu',
        '--opacity', '0.7', '--out-file',
        str(out)
    ])
    drawn = np.asarray(Image.open(out))
    assert drawn.shape == (150, 226, 3)
    assert not np.array_equal(drawn, np.asarray(Image.open(photo)))
