"""tools/slurm_train.sh requeues a preempted job (exit code 75) and the
requeued job resumes; srun and scontrol are stand-ins that record their
arguments."""
import os
import signal
import subprocess
import time

import pytest

from mmseg_convlstm.engine import PREEMPTION_EXIT_CODE
from tests.tools_runner import REPO

# Records its arguments and exits with the next code of $FAKE_DIR/codes;
# with $FAKE_SRUN_HOLD set, only once $FAKE_DIR/release exists (at most
# 60 s), as training runs until it has saved.
FAKE_SRUN = '''#!/usr/bin/env bash
echo "$@" >> "$FAKE_DIR/srun.log"
if [ -n "${FAKE_SRUN_HOLD:-}" ]; then
    for _ in $(seq 6000); do
        [ -e "$FAKE_DIR/release" ] && break
        sleep 0.01
    done
fi
code=$(head -n 1 "$FAKE_DIR/codes")
sed -i 1d "$FAKE_DIR/codes"
exit "$code"
'''
FAKE_SCONTROL = '''#!/usr/bin/env bash
echo "$@" >> "$FAKE_DIR/scontrol.log"
exit "${FAKE_SCONTROL_STATUS:-0}"
'''


def start_script(tmp_path, srun_codes, **env):
    """Starts tools/slurm_train.sh with the stand-ins on PATH, its output
    going to ``tmp_path/script.log``; srun exits with ``srun_codes``, one
    per call."""
    for name, text in (('srun', FAKE_SRUN), ('scontrol', FAKE_SCONTROL)):
        (tmp_path / name).write_text(text)
        (tmp_path / name).chmod(0o755)
    (tmp_path / 'codes').write_text(''.join(f'{c}\n' for c in srun_codes))
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith('SLURM_')
    }
    environment.update(
        PATH=f'{tmp_path}:{os.environ["PATH"]}', FAKE_DIR=str(tmp_path), **env)
    command = [
        'bash', 'tools/slurm_train.sh', 'gpu', 'job',
        'configs/convlstm_voc.py', '--work-dir', 'work'
    ]
    with open(tmp_path / 'script.log', 'w') as log:
        return subprocess.Popen(
            command,
            cwd=REPO,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT)


def calls(tmp_path, name):
    log = tmp_path / f'{name}.log'
    return log.read_text().splitlines() if log.exists() else []


def run_script(tmp_path, srun_codes, **env):
    status = start_script(tmp_path, srun_codes, **env).wait(timeout=60)
    return status, calls(tmp_path, 'srun'), calls(tmp_path, 'scontrol')


def test_a_preempted_sbatch_job_is_requeued(tmp_path):
    status, srun, scontrol = run_script(
        tmp_path, [PREEMPTION_EXIT_CODE], SLURM_JOB_ID='1234')
    assert status == 0
    assert len(srun) == 1 and '--resume' not in srun[0]
    assert scontrol == ['requeue 1234']


def test_the_requeued_job_resumes(tmp_path):
    status, srun, scontrol = run_script(
        tmp_path, [0], SLURM_JOB_ID='1234', SLURM_RESTART_COUNT='1')
    assert status == 0
    assert srun[0].endswith('--work-dir work --resume')
    assert scontrol == []


@pytest.mark.parametrize('requeue_refused', [False, True])
def test_without_a_batch_job_srun_runs_again_resuming(tmp_path,
                                                      requeue_refused):
    env = dict(SLURM_JOB_ID='77', FAKE_SCONTROL_STATUS='1') \
        if requeue_refused else {}
    status, srun, _ = run_script(tmp_path, [PREEMPTION_EXIT_CODE, 0], **env)
    assert status == 0
    assert len(srun) == 2
    assert '--resume' not in srun[0] and srun[1].endswith('--resume')


def test_other_failures_are_not_requeued(tmp_path):
    status, srun, scontrol = run_script(tmp_path, [1], SLURM_JOB_ID='1234')
    assert status == 1
    assert len(srun) == 1 and scontrol == []


def test_the_script_outlives_the_signal_until_training_has_saved(tmp_path):
    script = start_script(
        tmp_path, [PREEMPTION_EXIT_CODE],
        SLURM_JOB_ID='1234',
        FAKE_SRUN_HOLD='1')
    deadline = time.monotonic() + 30
    while not calls(tmp_path, 'srun'):
        assert time.monotonic() < deadline, 'srun did not start'
        time.sleep(0.05)
    # srun is held until released: the signal reaches the script while
    # training runs, as SLURM signals the batch shell.
    script.send_signal(signal.SIGTERM)
    (tmp_path / 'release').touch()
    assert script.wait(timeout=60) == 0
    assert calls(tmp_path, 'scontrol') == ['requeue 1234']
    assert len(calls(tmp_path, 'srun')) == 1
    assert ('slurm_train.sh: signal received, waiting for the checkpoint'
            in (tmp_path / 'script.log').read_text())
