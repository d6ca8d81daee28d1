"""The package's rooms import only downwards: the model, data, metrics,
engine, counting and pictures never import what the tools' rooms (apis,
analysis, benchmarks, cli) build on them."""
import ast
import os
import os.path as osp

import pytest

from tests.conftest import REPO

PACKAGE = osp.join(REPO, 'mmseg_convlstm')
UPPER_ROOMS = {'apis', 'analysis', 'benchmarks', 'cli'}
LOWER_ROOMS = ('models', 'datasets', 'evaluation', 'engine', 'utils',
               'visualization')


def imported_rooms(path: str, package_root: str = PACKAGE) -> set:
    """The first-level rooms of ``mmseg_convlstm`` that a module imports,
    relative imports resolved against its place under ``package_root``."""
    folder = osp.relpath(osp.dirname(path), osp.dirname(package_root))
    package = folder.split(os.sep)
    modules = []
    for node in ast.walk(ast.parse(open(path).read(), path)):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            if node.module:
                modules.append(base + node.module.split('.'))
            else:
                modules.extend(base + [alias.name] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.append(node.module.split('.'))
        elif isinstance(node, ast.Import):
            modules.extend(alias.name.split('.') for alias in node.names)
    return {
        module[1]
        for module in modules
        if module[0] == 'mmseg_convlstm' and len(module) > 1
    }


def modules_of(room: str):
    for folder, _, files in os.walk(osp.join(PACKAGE, room)):
        for name in files:
            if name.endswith('.py'):
                yield osp.join(folder, name)


@pytest.mark.parametrize('room', LOWER_ROOMS)
def test_lower_rooms_never_import_the_tools_rooms(room):
    for path in modules_of(room):
        upward = imported_rooms(path) & UPPER_ROOMS
        assert not upward, f'{osp.relpath(path, REPO)} imports {upward}'


def test_the_check_sees_upward_imports(tmp_path):
    package = tmp_path / 'mmseg_convlstm'
    room = package / 'engine'
    room.mkdir(parents=True)
    hook = room / 'hook.py'
    hook.write_text('from ..analysis.step_pictures import render_step_grid\n'
                    'from .launch_check import check_launch\n'
                    'from mmseg_convlstm.apis import segment_video\n'
                    'import mmseg_convlstm.cli\n')
    assert imported_rooms(str(hook), str(package)) == {
        'analysis', 'engine', 'apis', 'cli'
    }
