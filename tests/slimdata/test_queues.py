"""slim.queues.QueueRunners: start on entry; on exit stop, close, join, and surface errors."""
import signal
import threading

import numpy as np
import pytest
import tensorflow as tf

import slimdata as slim

tf1 = tf.compat.v1


def one_example_per_run(dataset):
  """What the providers hand out: tensors of one example, the next on each run."""
  return tf1.data.make_one_shot_iterator(dataset).get_next()


def runner_threads():
  return [t for t in threading.enumerate() if t.name.startswith('QueueRunnerThread')]


@pytest.fixture(autouse=True)
def no_threads_left():
  yield
  assert runner_threads() == []


def test_batches_a_tf_data_input_until_it_ends():
  with tf.Graph().as_default():
    example = one_example_per_run(tf.data.Dataset.range(10))
    batch = tf1.train.batch([example], batch_size=4, num_threads=2, capacity=8,
                            allow_smaller_final_batch=True)
    seen = []
    with tf1.Session() as sess, slim.queues.QueueRunners(sess) as runners:
      assert len(runners.threads) == 3  # two enqueue threads and one closer
      with pytest.raises(tf.errors.OutOfRangeError):
        while True:
          seen.extend(sess.run(batch).tolist())
  assert sorted(seen) == list(range(10))


def test_an_input_thread_error_is_raised_on_exit():
  with tf.Graph().as_default():
    values = tf.data.Dataset.from_tensor_slices(np.array([1.0, 2.0, np.nan, 4.0], np.float32))
    checked = values.map(lambda v: tf.debugging.check_numerics(v, 'corrupt example'))
    batch = tf1.train.batch([one_example_per_run(checked)], batch_size=2)
    with tf1.Session() as sess:
      with pytest.raises(tf.errors.InvalidArgumentError, match='corrupt example') as raised:
        with slim.queues.QueueRunners(sess):
          first = sess.run(batch)
          sess.run(batch)  # the queue was closed by the failure: OutOfRangeError here
  np.testing.assert_array_equal(first, [1.0, 2.0])
  assert isinstance(raised.value.__context__, tf.errors.OutOfRangeError)


def test_an_error_in_the_block_stops_blocked_threads():
  with tf.Graph().as_default():
    example = one_example_per_run(tf.data.Dataset.range(10**9))
    batch = tf1.train.batch([example], batch_size=2, capacity=2)  # enqueues block when full
    with tf1.Session() as sess:
      with pytest.raises(ValueError, match='model bug'):
        with slim.queues.QueueRunners(sess) as runners:
          sess.run(batch)
          threads = list(runners.threads)
          raise ValueError('model bug')
  assert threads and not any(t.is_alive() for t in threads)


def test_nested_contexts_leave_the_runners_to_the_outer_one():
  with tf.Graph().as_default():
    batch = tf1.train.batch([one_example_per_run(tf.data.Dataset.range(10**9))], batch_size=2)
    with tf1.Session() as sess:
      with slim.queues.QueueRunners(sess) as outer:
        with slim.queues.QueueRunners(sess) as inner:
          assert inner.threads == []
          sess.run(batch)
        assert all(t.is_alive() for t in outer.threads)
        sess.run(batch)
      assert not any(t.is_alive() for t in runner_threads())


def test_contexts_can_run_again_on_a_new_session_and_objects_be_reused():
  with tf.Graph().as_default():
    batch = tf1.train.batch([one_example_per_run(tf.data.Dataset.range(10**9))], batch_size=2)
    for _ in range(2):
      with tf1.Session() as sess, slim.queues.QueueRunners(sess):
        assert sess.run(batch).shape == (2,)
    with tf1.Session() as sess:
      runners = slim.queues.QueueRunners(sess)
      with runners:
        sess.run(batch)
        with pytest.raises(RuntimeError, match='already active'):
          runners.__enter__()
      with runners:  # the session's queue is closed now, but starting and stopping work
        assert runners.threads


def test_threads_stuck_past_the_grace_period_are_cut_off():
  with tf.Graph().as_default():
    # The runner's step signals that it started, then waits forever on an empty queue.
    started, never_fed, out = (tf1.FIFOQueue(10, tf.float32) for _ in range(3))
    with tf.control_dependencies([started.enqueue(1.0)]):
      stuck = never_fed.dequeue()
    tf1.train.add_queue_runner(tf1.train.QueueRunner(out, [out.enqueue(stuck)]))
    sess = tf1.Session()
    with pytest.raises(slim.queues.QueueRunnersTimeoutError, match='grace'):
      with slim.queues.QueueRunners(sess, stop_grace_period_secs=0.2) as runners:
        threads = list(runners.threads)
        sess.run(started.dequeue())
    assert not any(t.is_alive() for t in threads)


def test_invalid_arguments():
  with pytest.raises(ValueError, match='session'):
    slim.queues.QueueRunners(None)
  with tf.Graph().as_default(), tf1.Session() as sess:
    with pytest.raises(ValueError, match='stop_grace_period_secs'):
      slim.queues.QueueRunners(sess, stop_grace_period_secs=-1)


def test_an_interrupt_in_the_block_is_not_replaced_by_an_input_error():
  with tf.Graph().as_default():
    values = tf.data.Dataset.from_tensor_slices(np.array([np.nan], np.float32))
    checked = values.map(lambda v: tf.debugging.check_numerics(v, 'corrupt example'))
    batch = tf1.train.batch([one_example_per_run(checked)], batch_size=2)
    with tf1.Session() as sess:
      with pytest.raises(KeyboardInterrupt):
        with slim.queues.QueueRunners(sess):
          with pytest.raises(tf.errors.OutOfRangeError):
            sess.run(batch)  # the input failed and its queue was closed
          raise KeyboardInterrupt


def test_a_ctrl_c_while_the_context_starts_stops_what_it_started(monkeypatch):
  """SIGINT arriving just before the context's own handler is in place raises as usual;
  the runner threads and the interrupt watch are stopped, nothing is left installed."""
  real_signal = signal.signal
  # Python's usual handler, as interactively (a shell's background job ignores SIGINT).
  inherited = real_signal(signal.SIGINT, signal.default_int_handler)

  def interrupted(signum, handler):
    if signum == signal.SIGINT and handler is not signal.default_int_handler:
      raise KeyboardInterrupt   # as Python's default handler would, at this point
    return real_signal(signum, handler)
  monkeypatch.setattr(signal, 'signal', interrupted)
  try:
    with tf.Graph().as_default():
      batch = tf1.train.batch([one_example_per_run(tf.data.Dataset.range(10**9))],
                              batch_size=2, capacity=2)
      with tf1.Session() as sess:
        with pytest.raises(KeyboardInterrupt):
          with slim.queues.QueueRunners(sess):
            sess.run(batch)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.set_wakeup_fd(-1) == -1
    assert not [t for t in threading.enumerate() if t.name == 'QueueRunners-sigint']
  finally:
    real_signal(signal.SIGINT, inherited)
