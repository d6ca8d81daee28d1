"""The package's rooms import only downwards: the model, data, metrics,
engine, counting and pictures never import what the tools' rooms (apis,
analysis, benchmarks, cli) build on them, and no two rooms import each
other, directly or through others."""
import ast
import itertools
import os
import os.path as osp
from typing import Dict, List, Set

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


def modules_of(room: str, package_root: str = PACKAGE):
    if osp.isfile(osp.join(package_root, room + '.py')):
        yield osp.join(package_root, room + '.py')
    for folder, _, files in os.walk(osp.join(package_root, room)):
        for name in files:
            if name.endswith('.py'):
                yield osp.join(folder, name)


def rooms_of(package_root: str = PACKAGE) -> List[str]:
    """The first-level folders and modules of the package."""
    names = [
        name[:-3] if name.endswith('.py') else name
        for name in os.listdir(package_root) if name.endswith('.py')
        or osp.isfile(osp.join(package_root, name, '__init__.py'))
    ]
    return sorted(set(names) - {'__init__'})


def room_imports(package_root: str = PACKAGE) -> Dict[str, Set[str]]:
    """Which other rooms each room imports."""
    return {
        room:
        set().union(*(imported_rooms(path, package_root)
                      for path in modules_of(room, package_root))) - {room}
        for room in rooms_of(package_root)
    }


def import_cycle(graph: Dict[str, Set[str]]) -> List[str]:
    """A cycle of rooms importing each other (the rooms in order, the first
    repeated at the end), or [] when there is none."""
    finished: Set[str] = set()

    def visit(room: str, path: List[str]) -> List[str]:
        if room in path:
            return path[path.index(room):] + [room]
        if room in finished:
            return []
        for imported in sorted(graph.get(room, ())):
            cycle = visit(imported, path + [room])
            if cycle:
                return cycle
        finished.add(room)
        return []

    for room in sorted(graph):
        cycle = visit(room, [])
        if cycle:
            return cycle
    return []


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
    assert imported_rooms(
        str(hook), str(package)) == {'analysis', 'engine', 'apis', 'cli'}


def test_no_two_rooms_import_each_other():
    graph = room_imports()
    assert {'models', 'utils', 'benchmarks', 'engine'} <= set(graph)
    for first, second in itertools.combinations(sorted(graph), 2):
        assert not (second in graph[first] and first in graph[second]), (
            f'{first} and {second} import each other')
    assert import_cycle(graph) == []


def test_the_check_sees_a_cycle_through_three_rooms(tmp_path):
    package = tmp_path / 'mmseg_convlstm'
    for room, imported in (('models', 'utils'), ('utils', 'datasets'),
                           ('datasets', 'models'), ('engine', 'models')):
        (package / room).mkdir(parents=True)
        (package / room / '__init__.py').write_text('')
        (package / room /
         'a.py').write_text(f'from ..{imported}.b import thing\n')
    (package / 'cli.py').write_text('from .engine import hook\n')
    graph = room_imports(str(package))
    assert graph['cli'] == {'engine'}
    assert import_cycle(graph) == ['models', 'utils', 'datasets', 'models']
    (package / 'datasets' / 'a.py').write_text('import os\n')
    assert import_cycle(room_imports(str(package))) == []
