"""Soak: many epochs and many QueueRunners entries leave memory and threads flat.

64 small PNG examples in 2 shards. The provider runs 50 epochs in graph mode (one
session, OutOfRangeError at the end, every example exactly 50 times) and in eager
mode (`as_dataset` and eager `get`); `QueueRunners` is entered and left 200 times on
one graph with `tf.compat.v1.train.batch` on top of the provider, a new session each
time. Resident memory (/proc/self/status VmRSS) and threads (threading.active_count,
/proc/self/task) are taken after a warm-up and at the end; `-s` prints them for
docs/RELIABILITY.md.

Each soak runs in a fresh interpreter: inside the suite's process the heap already holds
gigabytes from earlier tests, and allocator noise there is larger than any leak worth
catching (a leaked session or pipeline per entry costs megabytes each time).
"""
import collections
import json
import os
import subprocess
import sys
import threading

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EPOCHS = 50
NUM_EXAMPLES = 64
# Each entry needs a new session (a session's queues stay closed after an exit), and a new
# session instantiates the provider's pipeline again (~0.3 s here).
ENTRIES = 200
RSS_GROWTH_BOUND_MB = 30


def _rss_mb():
  with open('/proc/self/status') as f:
    for line in f:
      if line.startswith('VmRSS:'):
        return int(line.split()[1]) / 1024
  raise AssertionError('no VmRSS in /proc/self/status')


def _sample():
  return {'rss_mb': round(_rss_mb(), 1), 'python_threads': threading.active_count(),
          'os_threads': len(os.listdir('/proc/self/task'))}


def _soak_in_fresh_process(scenario, files):
  """Runs `scenario(files)` in a new interpreter; returns its [(name, first, last)]."""
  code = ('import json, sys; from tests.reliability import test_soak as t; '
          f'print("SOAK", json.dumps(t.{scenario}(json.loads(sys.argv[1]))))')
  result = subprocess.run([sys.executable, '-c', code, json.dumps(files)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)
  assert result.returncode == 0, result.stdout + result.stderr[-5000:]
  [line] = [l for l in result.stdout.splitlines() if l.startswith('SOAK ')]
  return json.loads(line[len('SOAK '):])


def _check_flat(samples):
  for name, first, last in samples:
    print(f'\n{name}: after warm-up {first}, at the end {last}')
    assert last['rss_mb'] - first['rss_mb'] < RSS_GROWTH_BOUND_MB, (name, first, last)
    assert last['python_threads'] == first['python_threads'], (name, first, last)
    assert last['os_threads'] <= first['os_threads'], (name, first, last)


@pytest.fixture(scope='module')
def files(tmp_path_factory):
  from tests.providers import providers_testlib as lib
  return lib.write_shards(str(tmp_path_factory.mktemp('soak')), 2, NUM_EXAMPLES // 2)[0]


def graph_mode_fifty_epochs(files):
  import tensorflow as tf
  from providers import dataset_data_provider as ddp
  from tests.providers import providers_testlib as lib
  with tf.Graph().as_default():
    provider = ddp.DatasetDataProvider(lib.dataset(files), num_readers=2, shuffle=True,
                                       num_epochs=EPOCHS, seed=3)
    image, label = provider.get(['image', 'label'])
    counts = collections.Counter()
    with tf.compat.v1.Session() as sess:
      for _ in range(5 * NUM_EXAMPLES):
        counts[int(sess.run([image, label])[1])] += 1
      first = _sample()
      for fetched in lib.drain_session(sess, [image, label]):
        counts[int(fetched[1])] += 1
      last = _sample()
  assert counts == {l: EPOCHS for l in range(NUM_EXAMPLES)}, counts
  return [('graph mode, 50 epochs', first, last)]


def eager_fifty_epochs(files):
  import tensorflow as tf
  from providers import dataset_data_provider as ddp
  from tests.providers import providers_testlib as lib
  samples = []
  provider = ddp.DatasetDataProvider(lib.dataset(files), num_readers=2, shuffle=True,
                                     num_epochs=EPOCHS)
  counts = collections.Counter()
  for i, example in enumerate(provider.as_dataset(['image', 'label'])):
    counts[int(example['label'])] += 1
    if i == 5 * NUM_EXAMPLES:
      first = _sample()
  assert counts == {l: EPOCHS for l in range(NUM_EXAMPLES)}, counts
  samples.append(('eager as_dataset, 50 epochs', first, _sample()))

  provider = ddp.DatasetDataProvider(lib.dataset(files), num_readers=2, shuffle=True,
                                     num_epochs=EPOCHS)
  counts.clear()
  for i in range(5 * NUM_EXAMPLES):
    counts[int(provider.get(['label'])[0])] += 1
  first = _sample()
  try:
    while True:
      counts[int(provider.get(['label'])[0])] += 1
  except tf.errors.OutOfRangeError:
    pass
  assert counts == {l: EPOCHS for l in range(NUM_EXAMPLES)}, counts
  samples.append(('eager get, 50 epochs', first, _sample()))
  return samples


def queue_runners_entered_and_left(files):
  import tensorflow as tf
  import slimdata as slim
  from providers import dataset_data_provider as ddp
  from tests.providers import providers_testlib as lib
  with tf.Graph().as_default():
    provider = ddp.DatasetDataProvider(lib.dataset(files), num_readers=2, shuffle=True)
    image, label = provider.get(['image', 'label'])
    _, labels = tf.compat.v1.train.batch([image, label], batch_size=4, num_threads=2,
                                         capacity=16)
    baseline = threading.active_count()
    config = tf.compat.v1.ConfigProto()
    config.graph_options.rewrite_options.disable_meta_optimizer = True   # faster sessions
    first = None
    for i in range(ENTRIES):
      with tf.compat.v1.Session(config=config) as sess:
        with slim.queues.QueueRunners(sess) as runners:
          assert len(runners.threads) == 3          # two enqueue threads and the closer
          got = sess.run(labels)
      assert got.shape == (4,) and set(got) <= set(range(NUM_EXAMPLES)), got
      assert threading.active_count() == baseline
      if i == 9:
        first = _sample()
    last = _sample()
  return [(f'QueueRunners entered {ENTRIES} times', first, last)]


def test_graph_mode_fifty_epochs_in_one_session(files):
  _check_flat(_soak_in_fresh_process('graph_mode_fifty_epochs', files))


def test_eager_fifty_epochs_as_dataset_and_get(files):
  _check_flat(_soak_in_fresh_process('eager_fifty_epochs', files))


def test_queue_runners_entered_and_left_two_hundred_times(files):
  _check_flat(_soak_in_fresh_process('queue_runners_entered_and_left', files))
