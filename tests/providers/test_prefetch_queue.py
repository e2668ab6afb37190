"""prefetch_queue: a FIFO queue filled by a QueueRunner, as in TF-Slim."""
import numpy as np
import pytest
import tensorflow as tf

from providers import prefetch_queue


def test_prefetch_queue_passes_batches_through_in_order():
  from slimdata import queues
  with tf.Graph().as_default():
    counter = tf.data.Dataset.range(100).batch(10)
    batch = tf.compat.v1.data.make_one_shot_iterator(counter).get_next()
    queue = prefetch_queue.prefetch_queue({'numbers': batch, 'doubled': batch * 2},
                                          capacity=3, dynamic_pad=True)
    out = queue.dequeue()
    assert len(tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.QUEUE_RUNNERS)) == 1
    with tf.compat.v1.Session() as sess:
      with queues.QueueRunners(sess):
        got = [sess.run(out) for _ in range(10)]
  np.testing.assert_array_equal(np.concatenate([g['numbers'] for g in got]), np.arange(100))
  np.testing.assert_array_equal(got[3]['doubled'], got[3]['numbers'] * 2)


def test_prefetch_queue_list_and_bad_arguments():
  with tf.Graph().as_default():
    queue = prefetch_queue.prefetch_queue([tf.zeros([2, 3]), tf.ones([], tf.int64)],
                                          num_threads=2)
    first, second = queue.dequeue()
    assert first.shape == (2, 3) and second.dtype == tf.int64
    with pytest.raises(ValueError, match='capacity'):
      prefetch_queue.prefetch_queue([tf.zeros([1])], capacity=0)
  with pytest.raises(RuntimeError, match='eager'):
    prefetch_queue.prefetch_queue([tf.zeros([1])])
