#!/usr/bin/env bash
# Training on a SLURM cluster through MMEngine's slurm launcher:
#   GPUS=16 bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [options]
# Preemption: on SIGTERM (or SIGUSR1, e.g. from sbatch --signal=USR1@120)
# training saves a checkpoint and exits with 75 (PreemptionHook). Inside an
# sbatch job the job is then requeued (scontrol requeue; SLURM restarts it
# and this script resumes with --resume); elsewhere srun runs again with
# --resume. Signal the training processes (--signal=USR1@120, not B:):
# this script only outlives the signal.
set -x
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
GPUS=${GPUS:-4}
GPUS_PER_NODE=${GPUS_PER_NODE:-4}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PY_ARGS=${@:4}
PREEMPTED=75  # mmseg_convlstm.engine.PREEMPTION_EXIT_CODE
RESUME=""
if [ "${SLURM_RESTART_COUNT:-0}" -gt 0 ]; then
    RESUME="--resume"
fi
# SLURM signals this shell too: outlive the signal until training has saved.
trap 'echo "slurm_train.sh: signal received, waiting for the checkpoint"' \
    TERM USR1

while true; do
    PYTHONPATH="$(dirname "$0")/..":$PYTHONPATH \
    srun -p "${PARTITION}" \
        --job-name="${JOB_NAME}" \
        --gres=gpu:"${GPUS_PER_NODE}" \
        --ntasks="${GPUS}" \
        --ntasks-per-node="${GPUS_PER_NODE}" \
        --cpus-per-task="${CPUS_PER_TASK}" \
        --kill-on-bad-exit=1 \
        ${SRUN_ARGS} \
        "${PYTHON:-python}" -u "$(dirname "$0")/train.py" "${CONFIG}" \
        --launcher="slurm" ${PY_ARGS} ${RESUME}
    STATUS=$?
    if [ "${STATUS}" -ne "${PREEMPTED}" ]; then
        exit "${STATUS}"
    fi
    if [ -n "${SLURM_JOB_ID}" ] && scontrol requeue "${SLURM_JOB_ID}"; then
        exit 0
    fi
    RESUME="--resume"
done
