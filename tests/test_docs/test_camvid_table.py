"""The grouping of CamVid's 32 classes into SegNet's 11 in the CamVid guide
is the converter's."""
import os.path as osp
import re

from mmseg_convlstm.datasets.camvid_conversion import (CAMVID_32_CLASSES,
                                                       segnet_label)
from tests.tools_runner import REPO

GUIDE = osp.join(REPO, 'docs', 'en', 'user_guides', 'camvid.md')
ROW = re.compile(r'^\| (\d+) \| \w+ \| (.+) \|$')
MEMBER = re.compile(r'(\w+) \((\d+), (\d+), (\d+)\)')


def documented_grouping():
    """{(class name, colour): SegNet value} of the guide's table."""
    grouping = {}
    for line in open(GUIDE, encoding='utf-8').read().splitlines():
        row = ROW.match(line)
        if row is None:
            continue
        for name, *colour in MEMBER.findall(row[2]):
            grouping[name, tuple(map(int, colour))] = int(row[1])
    return grouping


def test_the_guide_lists_the_converters_grouping():
    assert documented_grouping() == {
        (name, colour): segnet_label(segnet_class)
        for name, colour, segnet_class in CAMVID_32_CLASSES
    }
