"""`QueueRunners` under failure, over the real provider: the block ends, within a bound, with the
right exception, and no thread is left running.

tests/slimdata/test_queues.py proves the same contract on plain tf.data inputs (an input
thread's error, a body error, KeyboardInterrupt in the body, stuck threads cut off);
these run it over `DatasetDataProvider` + `tf.compat.v1.train.batch`, each scenario in
a thread joined with a bound (against hanging, not a timing), then check
`threading.enumerate()`.
"""
import subprocess
import sys
import threading

import pytest
import tensorflow as tf

import slimdata as slim
from providers import dataset_data_provider as ddp
from providers import errors
from tests.conftest import ROOT
from tests.providers import providers_testlib as lib
from tests.reliability import bounded

HANG_BOUND_S = 60


def _bounded(scenario):
  """The exception `scenario()` raised (None if none), failing if it runs past the bound."""
  return bounded.run_bounded(scenario, HANG_BOUND_S, 'the block')[1]


def _no_threads_left(before):
  assert [t for t in threading.enumerate() if t not in before] == []


@pytest.fixture(scope='module')
def shards(tmp_path_factory):
  """(good files, files whose shard 0 holds a record that is not an image)."""
  root = tmp_path_factory.mktemp('qr')
  good, _, records = lib.write_shards(str(root / 'good'), 2, 8)
  bad, _, _ = lib.write_shards(str(root / 'bad'), 2, 8)
  shard0 = [records[i] for i in range(8)]
  shard0[5] = lib.example(b'not an image', 5)
  lib.write_records(bad[0], shard0)
  return good, bad


def _batch(files):
  provider = ddp.DatasetDataProvider(lib.dataset(files), shuffle=False)
  image, label = provider.get(['image', 'label'])
  return tf.compat.v1.train.batch([image, label], batch_size=2, capacity=4)


def _labels_of_bad(files):
  """Labels of a provider that decodes one example at a time (images of any size), so the
  good record after the bad one reveals it. (With fixed-shape images decoded 32 at a time
  and num_epochs=None, 16 records put the bad one in every block: see the skipped test.)"""
  provider = ddp.DatasetDataProvider(lib.dataset(files, fixed_shape=False), shuffle=False)
  [label] = provider.get(['label'])
  return tf.compat.v1.train.batch({'label': label}, batch_size=2, capacity=4)['label']


def test_an_error_in_a_queue_thread_is_raised_naming_the_shard(shards):
  _, bad = shards
  before = set(threading.enumerate())
  seen = []

  def scenario():
    with tf.Graph().as_default():
      labels = _labels_of_bad(bad)
      with tf.compat.v1.Session() as sess, slim.queues.QueueRunners(sess):
        while True:   # ends with OutOfRangeError once the failed thread closed the queue
          seen.extend(sess.run(labels).tolist())
  error = _bounded(scenario)
  assert isinstance(error, tf.errors.InvalidArgumentError), repr(error)
  assert f'shard {bad[0]} is corrupt' in error.message
  assert isinstance(error.__context__, tf.errors.OutOfRangeError)
  assert seen == [0, 1, 2, 3]   # the good records before the bad one's pair
  _no_threads_left(before)


@pytest.mark.parametrize('raised', [ValueError('model bug'), KeyboardInterrupt()])
def test_an_exception_in_the_body_ends_the_block_and_stops_blocked_threads(shards, raised):
  good, _ = shards
  before = set(threading.enumerate())
  runner_threads = []

  def scenario():
    with tf.Graph().as_default():
      images, _ = _batch(good)
      with tf.compat.v1.Session() as sess, slim.queues.QueueRunners(sess) as runners:
        assert sess.run(images).shape == (2, lib.HEIGHT, lib.WIDTH, 3)
        runner_threads.extend(runners.threads)
        raise raised   # the queue is full again by now: its enqueue threads are blocked
  error = _bounded(scenario)
  assert error is raised
  assert runner_threads and not any(t.is_alive() for t in runner_threads)
  _no_threads_left(before)


def test_an_interrupt_while_an_input_thread_fails_is_not_replaced(shards):
  """KeyboardInterrupt in the body wins over the input thread's error, which is logged."""
  _, bad = shards
  before = set(threading.enumerate())

  def scenario():
    with tf.Graph().as_default():
      labels = _labels_of_bad(bad)
      with tf.compat.v1.Session() as sess, slim.queues.QueueRunners(sess):
        with pytest.raises(tf.errors.OutOfRangeError):
          while True:
            sess.run(labels)
        raise KeyboardInterrupt
  assert isinstance(_bounded(scenario), KeyboardInterrupt)
  _no_threads_left(before)


def test_a_decoder_that_fails_every_block_raises_with_num_epochs_none(shards):
  _, bad = shards

  def scenario():
    with tf.Graph().as_default():
      provider = ddp.DatasetDataProvider(lib.dataset(bad), shuffle=False)   # 32-record blocks
      [label] = provider.get(['label'])
      with tf.compat.v1.Session() as sess:
        while True:
          sess.run(label)
  error = _bounded(scenario)
  assert isinstance(error, tf.errors.InvalidArgumentError), repr(error)
  assert f'shard(s) {bad[0]}' in error.message and 'could not be decoded' in error.message


@pytest.mark.parametrize('blocks', [False, True])
def test_batches_raise_when_every_decode_fails_forever(tmp_path, blocks):
  """Examples decoded one at a time or in blocks and checked as batches: the sentinels
  surface the gap even when no record ever decodes (num_epochs=None)."""
  files, _, _ = lib.write_shards(str(tmp_path), 2, 4)
  for f in files:
    lib.write_records(f, [lib.example(b'not an image', i) for i in range(4)])
  provider = ddp.DatasetDataProvider(lib.dataset(files, fixed_shape=False), shuffle=False)
  def shrink(e):
    return {'label': e['label'], 'image': tf.image.resize(e['image'], [4, 4])}
  error = _bounded(lambda: next(iter(provider.as_dataset(
      ['image', 'label'], batch_size=4, preprocess_fn=shrink, decode_in_blocks=blocks))))
  assert isinstance(error, tf.errors.InvalidArgumentError), repr(error)
  assert 'could not be decoded' in error.message
  named = 'shard(s) {}' if blocks else 'shard {} is corrupt'
  assert any(named.format(f) in error.message for f in files), error.message


@pytest.mark.parametrize('eager', [False, True])
@pytest.mark.parametrize('num_samples', [8, None])   # None: bounded by the files' sizes
def test_skipping_when_nothing_can_be_decoded_raises_with_num_epochs_none(tmp_path, eager,
                                                                          num_samples):
  files, _, _ = lib.write_shards(str(tmp_path), 2, 4)
  for f in files:
    lib.write_records(f, [lib.example(b'not an image', i) for i in range(4)])
  dataset = lib.dataset(files, num_samples=num_samples)

  def scenario():
    if eager:
      ddp.DatasetDataProvider(dataset, shuffle=False, skip_corrupt=True).get(['label'])
      return
    with tf.Graph().as_default():
      provider = ddp.DatasetDataProvider(dataset, shuffle=False, skip_corrupt=True)
      [label] = provider.get(['label'])
      with tf.compat.v1.Session() as sess:
        sess.run(label)
  error = _bounded(scenario)
  # Eager get turns the in-graph check's error into CorruptDataError (a DataLossError).
  expected = errors.CorruptDataError if eager else tf.errors.InvalidArgumentError
  assert isinstance(error, expected), repr(error)
  assert 'records in a row were skipped, more than the dataset holds' in error.message


_CTRL_C_WHILE_WAITING = '''
import os, signal, threading
import tensorflow as tf
import slimdata as slim
# A shell's background job inherits SIGINT ignored; give it Python's usual handler.
signal.signal(signal.SIGINT, signal.default_int_handler)
with tf.Graph().as_default():
  never = tf.queue.FIFOQueue(1, tf.float32, shapes=[[]])   # input that never comes
  batch = tf.compat.v1.train.batch([never.dequeue()], batch_size=2)
  with tf.compat.v1.Session() as sess:
    threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
    try:
      with slim.queues.QueueRunners(sess, stop_grace_period_secs=2):
        sess.run(batch)   # blocks in C++: Python's own SIGINT handler cannot run
    except KeyboardInterrupt:
      alive = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
      print('KeyboardInterrupt; threads left:', alive)
'''


def test_ctrl_c_while_the_main_thread_waits_in_session_run_ends_the_block():
  """SIGINT (Ctrl-C) reaches a `session.run` blocked on an empty queue: the block ends with
  KeyboardInterrupt and no thread is left (in a fresh interpreter: the signal is real)."""
  out = subprocess.run([sys.executable, '-c', _CTRL_C_WHILE_WAITING], cwd=ROOT,
                       capture_output=True, text=True, timeout=HANG_BOUND_S, check=False)
  assert out.returncode == 0, out.stderr[-3000:]
  assert 'KeyboardInterrupt; threads left: []' in out.stdout, out.stdout + out.stderr[-3000:]
