"""run_side_by_side: a few jobs at a time, in order, each stopped with
SIGTERM after the time limit, exit codes collected."""
import json
import signal
import sys

import pytest

from mmseg_convlstm.benchmarks.side_by_side import run_side_by_side

RECORDING_JOB = '''
import json, sys, time
start = time.monotonic()
time.sleep(float(sys.argv[2]))
with open(sys.argv[1], 'w') as file:
    json.dump([start, time.monotonic()], file)
'''

PATIENT_JOB = '''
import signal, sys, time
def stop(*_):
    open(sys.argv[1], 'w').write('stopped cleanly')
    sys.exit(75)
signal.signal(signal.SIGTERM, stop)
time.sleep(60)
'''


def job(tmp_path, name, source, *args):
    return (name, [sys.executable, '-c', source, *map(str, args)],
            str(tmp_path / f'{name}.log'))


def test_at_most_max_running_jobs_overlap(tmp_path):
    spans = [tmp_path / f'span{index}.json' for index in range(4)]
    jobs = [
        job(tmp_path, f'job{index}', RECORDING_JOB, span, 0.6)
        for index, span in enumerate(spans)
    ]
    exit_codes = run_side_by_side(jobs, max_running=2, poll_s=0.05)

    assert exit_codes == {f'job{index}': 0 for index in range(4)}
    intervals = [json.loads(span.read_text()) for span in spans]
    for start, _ in intervals:
        running = sum(begin <= start < end for begin, end in intervals)
        assert running <= 2
    # Two at a time: the first two overlap, the last starts after one ends.
    assert intervals[1][0] < intervals[0][1]
    assert intervals[3][0] >= min(intervals[0][1], intervals[1][1])


def test_the_time_limit_stops_running_jobs_and_starts_no_more(tmp_path):
    marker = tmp_path / 'stopped.txt'
    never = tmp_path / 'never.json'
    jobs = [
        job(tmp_path, 'patient', PATIENT_JOB, marker),
        job(tmp_path, 'queued', RECORDING_JOB, never, 0)
    ]
    exit_codes = run_side_by_side(
        jobs, max_running=1, timeout_s=2.0, poll_s=0.05)

    assert list(exit_codes) == ['patient']
    # SIGTERM, not SIGKILL: handled (75) unless it came before the handler
    # was installed on a slow machine.
    assert exit_codes['patient'] in (75, -signal.SIGTERM)
    if exit_codes['patient'] == 75:
        assert marker.read_text() == 'stopped cleanly'
    assert not never.exists()


def test_a_failing_job_is_reported_and_the_others_run(tmp_path):
    done = tmp_path / 'done.json'
    jobs = [
        ('broken', [sys.executable, '-c', 'raise SystemExit(3)'],
         str(tmp_path / 'broken.log')),
        job(tmp_path, 'fine', RECORDING_JOB, done, 0)
    ]
    assert run_side_by_side(jobs, poll_s=0.05) == {'broken': 3, 'fine': 0}
    assert done.exists()


def test_max_running_below_one_is_refused():
    with pytest.raises(ValueError, match='max_running'):
        run_side_by_side([], max_running=0)
