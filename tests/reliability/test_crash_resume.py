"""A conversion killed at any point never leaves a bad file under a final name, and resumes.

The run under test is the command a user types,
`tools/convert.py --dataset flowers ... --direct_running_mode=multi_processing
--direct_num_workers=2`, in its own process group. Kill points are not times
but observable progress: the count of finished-shard stats files in
`.incomplete/`, shards under their final names, labels.txt and the manifest.
At each point the whole group gets SIGKILL; the folder is checked (every
final-named file is complete, the manifest lists only files that are there),
then the same command runs to completion (in-process, and once more with
worker processes) and must reproduce an uninterrupted multi-process run byte
for byte: every shard, labels.txt and the manifest (the manifest
holds no time stamps or output paths, so nothing is excluded from the
comparison). docs/RELIABILITY.md reports the figures.
"""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from converters import tfrecord
from tests.conftest import ROOT
from tests.reliability import converter_inputs as inputs
from tools import convert as convert_tool

NUM_IMAGES = 200
NUM_SHARDS = 8
VALIDATION = 40
# Kill when this much progress is seen (see _progress); 0 = as soon as `.incomplete/` exists.
# The last, 33, is "labels.txt written, manifest not yet": the launcher's final steps.
KILL_AT = (0, 2, 5, 8, 11, 14, 17, 20, 24, 28, 31, 33)
POLL_S = 0.002
RUN_BOUND_S = 120


@pytest.fixture(scope='module')
def photos(tmp_path_factory):
  """A flowers-like tree: 200 noisy RGB JPEGs of 32-64 px in 5 class folders."""
  return inputs.write_photos(tmp_path_factory.mktemp('photos'), NUM_IMAGES)


def _flags(photos, out):
  return ['--dataset', 'flowers', '--source', photos, '--dataset_dir', out,
          '--validation_size', str(VALIDATION), '--num_shards', str(NUM_SHARDS)]


def _command(photos, out):
  return ([sys.executable, os.path.join(ROOT, 'tools', 'convert.py')] + _flags(photos, out)
          + ['--direct_running_mode=multi_processing', '--direct_num_workers=2'])


def _start(photos, out):
  # A new session makes the launcher the leader of a group holding its Beam workers.
  return subprocess.Popen(_command(photos, out), cwd=ROOT, start_new_session=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _rerun_in_process(photos, out):
  # The same command without worker processes: a subprocess per rerun would double the
  # test's time, and a resume must not depend on the runner that was killed.
  assert convert_tool.main(_flags(photos, out)) == 0


def _run_to_completion(photos, out):
  proc = _start(photos, out)
  output, _ = proc.communicate(timeout=RUN_BOUND_S)
  assert proc.returncode == 0, output.decode(errors='replace')[-3000:]


def _snapshot(out):
  """(final-named files, files in .incomplete/), or None before the folder exists."""
  try:
    finals = [f for f in os.listdir(out) if not f.startswith('.')]
  except FileNotFoundError:
    return None
  try:
    temps = os.listdir(os.path.join(out, '.incomplete'))
  except FileNotFoundError:
    temps = None
  return finals, temps


def _progress(snapshot):
  """Stats files + final shards + labels.txt + manifest (0..34), or -1 before .incomplete/."""
  if snapshot is None or snapshot[1] is None:
    return -1
  finals, temps = snapshot
  return sum(1 for f in temps if f.endswith('.tfrecord.json')) + len(finals)


def _kill_at(photos, out, threshold):
  """Starts a run and SIGKILLs its process group once progress reaches `threshold`.

  Returns the progress seen at the kill, or None if the run finished first.
  """
  proc = _start(photos, out)
  deadline = time.monotonic() + RUN_BOUND_S
  try:
    while time.monotonic() < deadline:
      seen = _progress(_snapshot(out))
      if seen >= threshold:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        return seen
      try:
        proc.wait(timeout=POLL_S)   # a bounded wait on the run's end between looks
        return None
      except subprocess.TimeoutExpired:
        pass
    raise AssertionError(f'no progress {threshold} within {RUN_BOUND_S} s')
  finally:
    if proc.poll() is None:
      os.killpg(proc.pid, signal.SIGKILL)
      proc.wait(timeout=30)
    proc.stdout.close()


def _read(path):
  with open(path, 'rb') as f:
    return f.read()


def _check_invariants(out, reference):
  """No final name holds an incomplete file; a manifest lists only files that are there."""
  expected = json.loads(reference['flowers_manifest.json'])
  counts = {s['file']: s['num_examples'] for split in expected['splits'].values()
            for s in split['shards']}
  finals = [f for f in os.listdir(out) if not f.startswith('.')]
  assert set(finals) <= set(reference), f'unexpected files in {out}: {finals}'
  for name in finals:
    path = os.path.join(out, name)
    if name in counts:
      with open(path, 'rb') as f:   # checks both CRCs of every record, and the framing
        assert sum(1 for _ in tfrecord.read_records(f, path=path)) == counts[name], name
    # The run is deterministic, so a complete file is the reference file.
    assert _read(path) == reference[name], f'{name} differs from the uninterrupted run'
  if 'flowers_manifest.json' in finals:
    listed = json.loads(_read(os.path.join(out, 'flowers_manifest.json')))
    for split in listed['splits'].values():
      for shard in split['shards']:
        assert shard['file'] in finals, f'the manifest lists {shard["file"]}, which is missing'
  return len([f for f in finals if f in counts])


def test_sigkill_at_every_stage_then_rerun_gives_the_uninterrupted_result(photos, tmp_path):
  reference_dir = str(tmp_path / 'reference')
  _run_to_completion(photos, reference_dir)
  reference = {f: _read(os.path.join(reference_dir, f)) for f in os.listdir(reference_dir)}
  assert len(reference) == 2 * NUM_SHARDS + 2   # shards, labels.txt, manifest

  kills = []
  for threshold in KILL_AT:
    out = str(tmp_path / f'killed_at_{threshold}')
    seen = _kill_at(photos, out, threshold)
    if seen is None:
      continue   # the run finished before the point was reached
    snapshot = _snapshot(out)
    temps = len([f for f in snapshot[1] or () if f.endswith('.tmp')])
    complete = _check_invariants(out, reference)
    kills.append((threshold, seen, complete, temps))
    if threshold == KILL_AT[-1]:
      _run_to_completion(photos, out)   # and once with worker processes, as killed
    else:
      _rerun_in_process(photos, out)
    assert sorted(os.listdir(out)) == sorted(reference), out
    for name, data in reference.items():
      assert _read(os.path.join(out, name)) == data, f'{name} after the kill at {seen}'
  print('kills (threshold, progress seen, final shards present, temporaries present):', kills)
  assert len(kills) >= 10, kills
  # The points spread over the run: some before any shard is final, some after most are.
  assert min(k[2] for k in kills) == 0 and max(k[2] for k in kills) >= NUM_SHARDS
