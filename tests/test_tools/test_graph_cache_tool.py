"""tools/analysis_tools/graph_cache_benchmark.py: the counts of the former
LRU and of the most-used policy for the VOC config's cuda_graph_max_shapes,
written to the work dir."""
import os.path as osp

from tests.conftest import CONFIGS
from tests.tools_runner import run_tool


def test_writes_the_counts_of_each_policy(tmp_path):
    result = run_tool([
        'tools/analysis_tools/graph_cache_benchmark.py',
        osp.join(CONFIGS, 'convlstm_voc.py'), '--images', '300',
        '--capture-after', '2', '--work-dir',
        str(tmp_path), '--cfg-options',
        'model.test_cfg.cuda_graph_max_shapes=3'
    ])
    with open(tmp_path / 'graph_cache.md') as file:
        table = file.read()
    assert table in result.stdout
    assert 'cuda_graph_max_shapes=3' in table
    assert '| LRU (before) | 300 |' in table
    assert '| most used, capture_after=2 | 300 |' in table
    assert 'most used, capture_after=1' not in table
