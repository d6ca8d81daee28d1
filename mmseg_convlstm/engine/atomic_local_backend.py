import os
import os.path as osp
import uuid
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend


def write_atomically(filepath: Union[str, Path], data: bytes) -> None:
    """Writes ``data`` to ``filepath`` so that the file under that name is
    always either the previous one or the complete new one.

    The bytes go to a temporary file in the same directory, are flushed to
    disk (fsync) and renamed over ``filepath`` (``os.replace``, atomic on
    POSIX); the directory is then synced so that the rename itself survives
    a power cut. A process killed while writing leaves at most a stray
    ``.<name>.<random>.tmp`` next to the untouched previous file.
    """
    filepath = osp.abspath(str(filepath))
    directory, name = osp.split(filepath)
    os.makedirs(directory, exist_ok=True)
    temp_path = osp.join(directory, f'.{name}.{uuid.uuid4().hex[:12]}.tmp')
    # os.open with a mode (not mkstemp's 0600) so the umask applies as it
    # does to a plain open().
    descriptor = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                         0o666)
    try:
        with os.fdopen(descriptor, 'wb') as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_path, filepath)
    except BaseException:
        if osp.exists(temp_path):
            os.remove(temp_path)
        raise
    if os.name == 'posix':
        directory_descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(directory_descriptor)
        finally:
            os.close(directory_descriptor)


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """Local storage whose writes are all-or-nothing (see
    :func:`write_atomically`): a file is never left half-written under its
    final name.

    Select it with ``backend_args=dict(backend='atomic_local')`` wherever
    MMEngine takes ``backend_args``; :class:`AtomicCheckpointHook` does so
    for checkpoints.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Writes bytes to ``filepath`` atomically."""
        write_atomically(filepath, obj)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Writes text to ``filepath`` atomically."""
        write_atomically(filepath, obj.encode(encoding))
