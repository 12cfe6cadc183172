#!/usr/bin/env bash
# Runs an einflow sweep as a Slurm job array: task K of N runs the K-th
# of N disjoint shards (`einflow sweep --shard K/N`) into its own file,
# so the tasks never share an output. Submit with as many tasks as
# shards:
#
#   sbatch --array=1-8 scripts/sweep-slurm.sh sweeps/eyeriss_resnet50.yaml out/points
#
# (task K writes out/points.K.jsonl; SHARDS defaults to the array's task
# count). A task that is killed or times out resumes where it stopped
# when it runs again (`scontrol requeue`, or sbatch --array=K again).
# When all tasks are done, merge the shards and finish the merged file
# (nothing is run again: every point is found done; the lines are put in
# index order, the front marked and the CSV written):
#
#   cat out/points.*.jsonl > out/points.jsonl
#   einflow sweep sweeps/eyeriss_resnet50.yaml -o out/points.jsonl --pareto --csv out/points.csv
#
# Extra arguments after the two are passed to einflow sweep (mapper
# options must be the same in every task and in the merge: they are
# part of each point's key).
#SBATCH --job-name=einflow-sweep
#SBATCH --cpus-per-task=4
#SBATCH --time=02:00:00
#SBATCH --output=einflow-sweep-%A_%a.log
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: sbatch --array=1-N $0 SWEEP.yaml OUT_STEM [einflow sweep options]" >&2
  exit 2
fi
sweep=$1
stem=$2
shift 2
: "${SLURM_ARRAY_TASK_ID:?run this under sbatch --array=1-N}"
shards=${SHARDS:-${SLURM_ARRAY_TASK_COUNT:?set SHARDS to the number of shards}}
einflow=${EINFLOW:-einflow}
mkdir -p "$(dirname "$stem")"
exec "$einflow" sweep "$sweep" -o "$stem.$SLURM_ARRAY_TASK_ID.jsonl" \
  --shard "$SLURM_ARRAY_TASK_ID/$shards" --threads "${SLURM_CPUS_PER_TASK:-1}" -q "$@"
