"""TF-Slim's streaming metrics: each returns `(value_op, update_op)` over local variables.

    names_to_values, names_to_updates = slim.metrics.aggregate_metric_map({
        'accuracy': slim.metrics.streaming_accuracy(predictions, labels)})
    sess.run(tf.compat.v1.local_variables_initializer()); sess.run(names_to_updates)

Run `update_op` once per batch; `value_op` reads the value so far without
changing it. The variables live in LOCAL_VARIABLES and METRIC_VARIABLES, so
`local_variables_initializer()` resets them. Argument order is TF-Slim's
(predictions before labels); `tf.compat.v1.metrics` does the work where it has
the metric.
"""
import tensorflow as tf

_metrics = tf.compat.v1.metrics

__all__ = [
    'accuracy', 'aggregate_metric_map', 'aggregate_metrics', 'percentage_less', 'precision',
    'recall', 'streaming_accuracy', 'streaming_auc', 'streaming_concat', 'streaming_mean',
    'streaming_mean_absolute_error', 'streaming_mean_iou', 'streaming_mean_relative_error',
    'streaming_mean_squared_error', 'streaming_mean_tensor', 'streaming_percentage_less',
    'streaming_precision', 'streaming_recall', 'streaming_recall_at_k',
    'streaming_root_mean_squared_error', 'streaming_sparse_recall_at_k',
]


def streaming_mean(values, weights=None, metrics_collections=None, updates_collections=None,
                   name=None):
  """Weighted mean of every element of `values` seen so far (a scalar)."""
  return _metrics.mean(values=values, weights=weights, metrics_collections=metrics_collections,
                       updates_collections=updates_collections, name=name)


def streaming_mean_tensor(values, weights=None, metrics_collections=None,
                          updates_collections=None, name=None):
  """Element-wise weighted mean of `values` over the batches seen (shaped like `values`)."""
  return _metrics.mean_tensor(values=values, weights=weights,
                              metrics_collections=metrics_collections,
                              updates_collections=updates_collections, name=name)


def streaming_accuracy(predictions, labels, weights=None, metrics_collections=None,
                       updates_collections=None, name=None):
  """Fraction of `predictions` equal to `labels` (class ids, same shape)."""
  return _metrics.accuracy(labels=labels, predictions=predictions, weights=weights,
                           metrics_collections=metrics_collections,
                           updates_collections=updates_collections, name=name)


def streaming_precision(predictions, labels, weights=None, metrics_collections=None,
                        updates_collections=None, name=None):
  """true positives / (true positives + false positives) for boolean-castable inputs."""
  return _metrics.precision(labels=labels, predictions=predictions, weights=weights,
                            metrics_collections=metrics_collections,
                            updates_collections=updates_collections, name=name)


def streaming_recall(predictions, labels, weights=None, metrics_collections=None,
                     updates_collections=None, name=None):
  """true positives / (true positives + false negatives) for boolean-castable inputs."""
  return _metrics.recall(labels=labels, predictions=predictions, weights=weights,
                         metrics_collections=metrics_collections,
                         updates_collections=updates_collections, name=name)


def streaming_auc(predictions, labels, weights=None, num_thresholds=200,
                  metrics_collections=None, updates_collections=None, curve='ROC', name=None):
  """Area under the ROC (or `curve='PR'`) curve, by `num_thresholds` thresholds in [0, 1]."""
  if curve not in ('ROC', 'PR'):
    raise ValueError(f"streaming_auc: curve must be 'ROC' or 'PR', got {curve!r}.")
  return _metrics.auc(labels=labels, predictions=predictions, weights=weights,
                      num_thresholds=num_thresholds, metrics_collections=metrics_collections,
                      updates_collections=updates_collections, curve=curve, name=name)


def streaming_recall_at_k(predictions, labels, k, weights=None, metrics_collections=None,
                          updates_collections=None, name=None):
  """Fraction of examples whose label is among the top `k` of `predictions`.

  `predictions` is `[batch_size, num_classes]`, `labels` is `[batch_size]` class ids.
  """
  in_top_k = tf.cast(tf.math.in_top_k(targets=tf.cast(labels, tf.int64), predictions=predictions,
                                      k=k), tf.float32)
  return streaming_mean(in_top_k, weights, metrics_collections, updates_collections,
                        name or f'recall_at_{k}')


def streaming_sparse_recall_at_k(predictions, labels, k, class_id=None, weights=None,
                                 metrics_collections=None, updates_collections=None, name=None):
  """Recall@k for multi-label `labels` (`[batch_size, num_labels]` ids or a SparseTensor)."""
  return _metrics.recall_at_k(labels=labels, predictions=predictions, k=k, class_id=class_id,
                              weights=weights, metrics_collections=metrics_collections,
                              updates_collections=updates_collections, name=name)


def streaming_mean_absolute_error(predictions, labels, weights=None, metrics_collections=None,
                                  updates_collections=None, name=None):
  """Weighted mean of |predictions - labels|."""
  return _metrics.mean_absolute_error(labels=labels, predictions=predictions, weights=weights,
                                      metrics_collections=metrics_collections,
                                      updates_collections=updates_collections, name=name)


def streaming_mean_relative_error(predictions, labels, normalizer=None, weights=None,
                                  metrics_collections=None, updates_collections=None, name=None):
  """Weighted mean of |predictions - labels| / normalizer (0 where the normalizer is 0).

  `normalizer` defaults to `labels`: TF-Slim required it, yet its README calls
  `streaming_mean_relative_error(predictions, labels)`.
  """
  if normalizer is None:
    normalizer = labels
  return _metrics.mean_relative_error(labels=labels, predictions=predictions,
                                      normalizer=normalizer, weights=weights,
                                      metrics_collections=metrics_collections,
                                      updates_collections=updates_collections, name=name)


def streaming_mean_squared_error(predictions, labels, weights=None, metrics_collections=None,
                                 updates_collections=None, name=None):
  """Weighted mean of (predictions - labels)^2."""
  return _metrics.mean_squared_error(labels=labels, predictions=predictions, weights=weights,
                                     metrics_collections=metrics_collections,
                                     updates_collections=updates_collections, name=name)


def streaming_root_mean_squared_error(predictions, labels, weights=None,
                                      metrics_collections=None, updates_collections=None,
                                      name=None):
  """Square root of the weighted mean of (predictions - labels)^2."""
  return _metrics.root_mean_squared_error(labels=labels, predictions=predictions,
                                          weights=weights,
                                          metrics_collections=metrics_collections,
                                          updates_collections=updates_collections, name=name)


def streaming_percentage_less(values, threshold, weights=None, metrics_collections=None,
                              updates_collections=None, name=None):
  """Weighted fraction of `values` strictly below `threshold`."""
  return _metrics.percentage_below(values=values, threshold=threshold, weights=weights,
                                   metrics_collections=metrics_collections,
                                   updates_collections=updates_collections, name=name)


def streaming_mean_iou(predictions, labels, num_classes, weights=None, metrics_collections=None,
                       updates_collections=None, name=None):
  """Mean over classes of intersection / union, from a streaming confusion matrix."""
  return _metrics.mean_iou(labels=labels, predictions=predictions, num_classes=num_classes,
                           weights=weights, metrics_collections=metrics_collections,
                           updates_collections=updates_collections, name=name)


def streaming_concat(values, axis=0, max_size=None, metrics_collections=None,
                     updates_collections=None, name=None):
  """Concatenates `values` along `axis` across batches, keeping at most `max_size` rows.

  Every dimension but `axis` must be known statically. The value is a tensor
  whose `axis` dimension is the number of rows kept so far.
  """
  values = tf.convert_to_tensor(values)
  if values.shape.ndims is None:
    raise ValueError('streaming_concat: `values` must have a statically known rank.')
  ndim = values.shape.ndims
  if axis < 0:
    axis += ndim
  if not 0 <= axis < ndim:
    raise ValueError(f'streaming_concat: axis={axis} is not in [0, {ndim}).')
  fixed_shape = [dim for n, dim in enumerate(values.shape.as_list()) if n != axis]
  if any(dim is None for dim in fixed_shape):
    raise ValueError('streaming_concat: every dimension of `values` but `axis` must be known '
                     f'statically; got shape {values.shape}.')
  if max_size is not None and max_size < 0:
    raise ValueError(f'streaming_concat: max_size must be >= 0, got {max_size}.')
  with tf.compat.v1.variable_scope(name, 'streaming_concat', (values,)):
    # Rows are stored with `axis` moved to the front, so appending is a concat on axis 0.
    array = _metric_variable([0] + fixed_shape, values.dtype, name='array',
                             shape=tf.TensorShape([None] + fixed_shape))
    to_front = [axis] + [n for n in range(ndim) if n != axis]
    batch = tf.transpose(values, to_front)
    current = array.read_value()
    if max_size is not None:
      room = tf.maximum(max_size - tf.shape(current)[0], 0)
      batch = batch[:room]
    update_op = array.assign(tf.concat([current, batch], axis=0))
    back = [0 if n == axis else n + 1 if n < axis else n for n in range(ndim)]
    value = tf.transpose(array.read_value(), back, name='concat')
    update_value = tf.transpose(update_op, back)
  if metrics_collections:
    tf.compat.v1.add_to_collections(metrics_collections, value)
  if updates_collections:
    tf.compat.v1.add_to_collections(updates_collections, update_value)
  return value, update_value


def _metric_variable(initial_shape, dtype, name, shape=None):
  """A zero-initialized local variable in METRIC_VARIABLES, reset by local init."""
  return tf.compat.v1.Variable(
      lambda: tf.zeros(initial_shape, dtype), trainable=False, name=name, shape=shape,
      collections=[tf.compat.v1.GraphKeys.LOCAL_VARIABLES,
                   tf.compat.v1.GraphKeys.METRIC_VARIABLES])


def aggregate_metrics(*value_update_tuples):
  """Splits `(value_op, update_op)` pairs into a list of values and a list of updates."""
  if not value_update_tuples:
    raise ValueError('aggregate_metrics: expected at least one (value_op, update_op) pair.')
  value_ops, update_ops = zip(*value_update_tuples)
  return list(value_ops), list(update_ops)


def aggregate_metric_map(names_to_tuples):
  """Splits `{name: (value_op, update_op)}` into `{name: value_op}` and `{name: update_op}`."""
  names_to_values = {name: pair[0] for name, pair in names_to_tuples.items()}
  names_to_updates = {name: pair[1] for name, pair in names_to_tuples.items()}
  return names_to_values, names_to_updates


# Short names used by the TF-Slim README (`slim.metrics.accuracy(predictions, labels)`
# in an `aggregate_metric_map`): they are the streaming metrics. tf_slim's own
# `metrics.accuracy` returned a plain tensor, which the README's use contradicts.
accuracy = streaming_accuracy
precision = streaming_precision
recall = streaming_recall
percentage_less = streaming_percentage_less
