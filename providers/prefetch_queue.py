"""A queue that assembles input ahead of the training step, TF-Slim's `prefetch_queue`.

    images, labels = tf.compat.v1.train.batch([image, label], batch_size=32, num_threads=4)
    batch_queue = prefetch_queue.prefetch_queue([images, labels])
    images, labels = batch_queue.dequeue()

A FIFO queue (padding FIFO with `dynamic_pad`) plus a QueueRunner in the graph's
QUEUE_RUNNERS collection, so `slim.queues.QueueRunners` or `learning.train` starts it.
Graph mode only: eagerly, use `tf.data`'s `prefetch`.
"""
import tensorflow as tf


def prefetch_queue(tensors, capacity=8, num_threads=1, dynamic_pad=False, shared_name=None,
                   name=None):
  """Returns a queue holding up to `capacity` copies of `tensors`, filled by `num_threads`.

  Args:
    tensors: a list or dict of tensors; a dict is enqueued under its sorted keys and
      dequeued as a dict.
    capacity: the most elements the queue holds.
    num_threads: threads running the enqueue op.
    dynamic_pad: allow dimensions of unknown size (a PaddingFIFOQueue).
    shared_name: share the queue under this name across sessions.
    name: name scope of the ops.

  Raises:
    ValueError: for an empty `tensors`, non-positive `capacity` or `num_threads`.
    RuntimeError: in eager mode.
  """
  if tf.executing_eagerly():
    raise RuntimeError('prefetch_queue builds a graph queue; eagerly, use '
                       'tf.data.Dataset.prefetch instead')
  if not tensors:
    raise ValueError(f'prefetch_queue: tensors must be a non-empty list or dict, got {tensors!r}')
  if not isinstance(capacity, int) or capacity < 1:
    raise ValueError(f'prefetch_queue: capacity must be a positive int, got {capacity!r}')
  if not isinstance(num_threads, int) or num_threads < 1:
    raise ValueError(f'prefetch_queue: num_threads must be a positive int, got {num_threads!r}')
  if isinstance(tensors, dict):
    names = sorted(tensors)  # a fixed order, so graphs are the same on every run
    tensor_list = [tensors[n] for n in names]
  else:
    names = None
    tensor_list = list(tensors)
  with tf.compat.v1.name_scope(name, 'prefetch_queue', tensor_list):
    queue_class = tf.queue.PaddingFIFOQueue if dynamic_pad else tf.queue.FIFOQueue
    queue = queue_class(capacity=capacity, dtypes=[t.dtype for t in tensor_list],
                        shapes=[t.shape for t in tensor_list], names=names,
                        shared_name=shared_name)
    enqueue_op = queue.enqueue(tensors)
    tf.compat.v1.train.add_queue_runner(
        tf.compat.v1.train.QueueRunner(queue, [enqueue_op] * num_threads))
    tf.compat.v1.summary.scalar(
        f'fraction_of_{capacity}_full',
        tf.cast(queue.size(), tf.float32) * (1. / capacity))
    return queue
