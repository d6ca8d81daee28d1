"""VideoFrameReader reads video files and folders of frames, and names the
file when a video or a frame cannot be used."""
import cv2
import mmcv
import numpy as np
import pytest

from mmseg_convlstm.apis.video_frame_reader import VideoFrameReader


def write_frames(folder, sizes):
    folder.mkdir()
    rng = np.random.default_rng(0)
    for index, (height, width) in enumerate(sizes):
        mmcv.imwrite(
            rng.integers(0, 255, (height, width, 3), dtype=np.uint8),
            str(folder / f'frame_{index:03d}.png'))
    return folder


def write_video(path, num_frames, size=(48, 64)):
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*'mp4v'), 10.0, size[::-1])
    for index in range(num_frames):
        writer.write(np.full((*size, 3), 20 * index, np.uint8))
    writer.release()
    return path


def test_a_folder_gives_its_images_in_name_order(tmp_path):
    folder = write_frames(tmp_path / 'frames', [(20, 30)] * 3)
    (folder / 'notes.txt').write_text('not a frame')
    reader = VideoFrameReader(str(folder), folder_fps=5)
    frames = list(reader)
    assert len(reader) == 3 and reader.fps == 5
    assert [name
            for name, _ in frames] == ['frame_000', 'frame_001', 'frame_002']
    assert np.array_equal(frames[1][1],
                          mmcv.imread(str(folder / 'frame_001.png')))


def test_a_video_file_gives_its_frames(tmp_path):
    video = write_video(tmp_path / 'clip.mp4', 4)
    reader = VideoFrameReader(str(video))
    frames = list(reader)
    assert len(frames) == len(reader) == 4
    assert reader.fps == pytest.approx(10.0)
    assert frames[0][0] == '000000' and frames[0][1].shape == (48, 64, 3)


def test_frames_of_different_sizes_are_named(tmp_path):
    folder = write_frames(tmp_path / 'frames', [(20, 30), (20, 30), (22, 30)])
    with pytest.raises(ValueError, match='frame_002.png') as error:
        list(VideoFrameReader(str(folder)))
    assert 'frame_000.png' in str(error.value)


def test_an_unreadable_frame_is_named(tmp_path):
    folder = write_frames(tmp_path / 'frames', [(20, 30)] * 2)
    (folder / 'frame_001.png').write_bytes(b'truncated')
    with pytest.raises(ValueError, match='frame_001.png'):
        list(VideoFrameReader(str(folder)))


def test_an_unreadable_video_is_named(tmp_path):
    video = tmp_path / 'broken.mp4'
    video.write_bytes(b'\x00' * 64 + b'not a video')
    with pytest.raises(ValueError, match='broken.mp4'):
        list(VideoFrameReader(str(video)))


def test_a_missing_input_or_an_empty_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere.mp4'):
        VideoFrameReader(str(tmp_path / 'nowhere.mp4'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='empty'):
        VideoFrameReader(str(tmp_path / 'empty'))
