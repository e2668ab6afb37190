"""Soak: many epochs and many QueueRunners entries leave memory and threads flat.

64 small PNG examples in 2 shards. The provider runs 50 epochs in graph mode (one
session, OutOfRangeError at the end, every example exactly 50 times) and in eager
mode (`as_dataset` and eager `get`); `QueueRunners` is entered and left 200 times on
one graph with `tf.compat.v1.train.batch` on top of the provider, a new session each
time. Resident memory (/proc/self/status VmRSS) and threads (threading.active_count,
/proc/self/task) are taken after a warm-up and at the end; `-s` prints them for
docs/RELIABILITY.md.
"""
import collections
import os
import threading

import pytest
import tensorflow as tf

import slimdata as slim
from providers import dataset_data_provider as ddp
from tests.providers import providers_testlib as lib

EPOCHS = 50
NUM_EXAMPLES = 64
# Each entry needs a new session (a session's queues stay closed after an exit), and a new
# session instantiates the provider's pipeline again (~0.4 s here).
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


def _check_flat(name, first, last):
  print(f'\n{name}: after warm-up {first}, at the end {last}')
  assert last['rss_mb'] - first['rss_mb'] < RSS_GROWTH_BOUND_MB, (first, last)
  assert last['python_threads'] == first['python_threads'], (first, last)
  assert last['os_threads'] <= first['os_threads'], (first, last)


@pytest.fixture(scope='module')
def files(tmp_path_factory):
  return lib.write_shards(str(tmp_path_factory.mktemp('soak')), 2, NUM_EXAMPLES // 2)[0]


def test_graph_mode_fifty_epochs_in_one_session(files):
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
  assert counts == {l: EPOCHS for l in range(NUM_EXAMPLES)}
  _check_flat('graph mode, 50 epochs', first, last)


def test_eager_fifty_epochs_as_dataset_and_get(files):
  provider = ddp.DatasetDataProvider(lib.dataset(files), num_readers=2, shuffle=True,
                                     num_epochs=EPOCHS)
  counts = collections.Counter()
  for i, example in enumerate(provider.as_dataset(['image', 'label'])):
    counts[int(example['label'])] += 1
    if i == 5 * NUM_EXAMPLES:
      first = _sample()
  assert counts == {l: EPOCHS for l in range(NUM_EXAMPLES)}
  _check_flat('eager as_dataset, 50 epochs', first, _sample())

  counts.clear()
  for i, [label] in enumerate(lib.drain_eager(provider, ['label'])):
    counts[int(label)] += 1
  assert counts == {l: EPOCHS for l in range(NUM_EXAMPLES)}
  # drain_eager keeps every example; sample around a second drain instead.
  provider = ddp.DatasetDataProvider(lib.dataset(files), num_readers=2, shuffle=True,
                                     num_epochs=EPOCHS)
  for _ in range(5 * NUM_EXAMPLES):
    provider.get(['image', 'label'])
  first = _sample()
  n = 5 * NUM_EXAMPLES
  with pytest.raises(tf.errors.OutOfRangeError):
    while True:
      provider.get(['image', 'label'])
      n += 1
  assert n == EPOCHS * NUM_EXAMPLES
  _check_flat('eager get, 50 epochs', first, _sample())


def test_queue_runners_entered_and_left_two_hundred_times(files):
  with tf.Graph().as_default():
    provider = ddp.DatasetDataProvider(lib.dataset(files), num_readers=2, shuffle=True)
    image, label = provider.get(['image', 'label'])
    images, labels = tf.compat.v1.train.batch([image, label], batch_size=4, num_threads=2,
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
      assert got.shape == (4,) and set(got) <= set(range(NUM_EXAMPLES))
      assert threading.active_count() == baseline
      if i == 9:
        first = _sample()
    last = _sample()
  _check_flat(f'QueueRunners entered {ENTRIES} times', first, last)
