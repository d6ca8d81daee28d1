"""Every relative link and picture in the README, the configs' README and
docs/ points at a file that exists, and every #anchor at a heading."""
import glob
import os.path as osp
import re

import pytest

from tests.tools_runner import REPO

MARKDOWN_FILES = sorted(
    [osp.join(REPO, 'README.md'),
     osp.join(REPO, 'configs', 'README.md')] +
    glob.glob(osp.join(REPO, 'docs', '**', '*.md'), recursive=True))
LINK = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')
FENCE = re.compile(r'^```.*?^```', re.MULTILINE | re.DOTALL)


def prose(path):
    """The file's text without its fenced code blocks."""
    with open(path, encoding='utf-8') as file:
        return FENCE.sub('', file.read())


def heading_anchors(path):
    """GitHub's anchors of the headings of a Markdown file."""
    anchors, seen = set(), {}
    for line in prose(path).splitlines():
        if not line.startswith('#'):
            continue
        text = line.lstrip('#').strip().lower()
        slug = re.sub(r'[^\w\- ]', '', text).replace(' ', '-')
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(f'{slug}-{count}' if count else slug)
    return anchors


def relative_links(path):
    for target in LINK.findall(prose(path)):
        if not re.match(r'[a-z]+:', target):
            yield target


def test_the_documentation_is_where_the_readme_says():
    names = {osp.relpath(path, REPO) for path in MARKDOWN_FILES}
    assert {
        'docs/en/get_started.md', 'docs/en/benchmarks.md',
        'docs/en/user_guides/train_and_test.md',
        'docs/en/user_guides/variable_budget.md',
        'docs/en/user_guides/video.md',
        'docs/en/user_guides/analysis_and_pictures.md',
        'docs/en/user_guides/faults_and_resuming.md',
        'docs/en/user_guides/distributed_and_slurm.md'
    } <= names


@pytest.mark.parametrize(
    'path', MARKDOWN_FILES, ids=lambda path: osp.relpath(path, REPO))
def test_relative_links_point_at_existing_files_and_headings(path):
    broken = []
    for target in relative_links(path):
        file_part, _, anchor = target.partition('#')
        linked = (
            osp.normpath(osp.join(osp.dirname(path), file_part))
            if file_part else path)
        if not osp.exists(linked):
            broken.append(f'{target}: no such file')
        elif anchor and linked.endswith('.md') and (
                anchor not in heading_anchors(linked)):
            broken.append(f'{target}: no heading with this anchor')
    assert not broken, f'{osp.relpath(path, REPO)}: {broken}'
