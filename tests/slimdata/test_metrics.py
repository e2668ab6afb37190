"""slim.metrics: streaming values over several batches against NumPy on all the data."""
import numpy as np
import pytest
import tensorflow as tf

import slimdata as slim

tf1 = tf.compat.v1
RNG = np.random.RandomState(1)
NUM_BATCHES, BATCH = 3, 8


def stream(build, *arrays, batch_dim=None):
  """Feeds `arrays` batch by batch to the metric `build(*placeholders)` returns.

  Returns the value after all batches, and checks the value op is idempotent
  and that local init resets the metric.
  """
  with tf.Graph().as_default():
    placeholders = [tf1.placeholder(tf.as_dtype(a.dtype), [batch_dim] + list(a.shape[1:]))
                    for a in arrays]
    value, update = build(*placeholders)
    assert tf1.get_collection(tf1.GraphKeys.LOCAL_VARIABLES)
    with tf1.Session() as sess:
      sess.run(tf1.local_variables_initializer())
      for start in range(0, len(arrays[0]), BATCH):
        sess.run(update, {p: a[start:start + BATCH] for p, a in zip(placeholders, arrays)})
      result = sess.run(value)
      np.testing.assert_array_equal(sess.run(value), result)
      sess.run(tf1.local_variables_initializer())
      first = {p: a[:BATCH] for p, a in zip(placeholders, arrays)}
      sess.run(update, first)
      after_reset = sess.run(value)
    return result, after_reset


def data(*shape):
  return RNG.rand(NUM_BATCHES * BATCH, *shape).astype(np.float32)


def test_streaming_accuracy_weighted():
  predictions = RNG.randint(0, 3, NUM_BATCHES * BATCH)
  labels = RNG.randint(0, 3, NUM_BATCHES * BATCH)
  weights = RNG.randint(0, 3, NUM_BATCHES * BATCH).astype(np.float32)
  value, first_batch = stream(
      lambda p, l, w: slim.metrics.streaming_accuracy(p, l, weights=w),
      predictions, labels, weights)
  correct = (predictions == labels).astype(np.float32)
  assert value == pytest.approx((correct * weights).sum() / weights.sum())
  assert first_batch == pytest.approx(
      (correct * weights)[:BATCH].sum() / weights[:BATCH].sum())


def test_streaming_mean_and_mean_tensor():
  values = data(2)
  mean, _ = stream(slim.metrics.streaming_mean, values)
  # mean_tensor needs a fully known shape, as in TF-Slim.
  mean_tensor, _ = stream(slim.metrics.streaming_mean_tensor, values, batch_dim=BATCH)
  assert mean == pytest.approx(values.mean(), rel=1e-5)
  np.testing.assert_allclose(mean_tensor, values.reshape(NUM_BATCHES, BATCH, 2).mean(0), rtol=1e-5)


def test_streaming_precision_and_recall():
  predictions = (RNG.rand(NUM_BATCHES * BATCH) > 0.5)
  labels = (RNG.rand(NUM_BATCHES * BATCH) > 0.4)
  precision, _ = stream(slim.metrics.streaming_precision, predictions, labels)
  recall, _ = stream(slim.metrics.streaming_recall, predictions, labels)
  true_positives = (predictions & labels).sum()
  assert precision == pytest.approx(true_positives / predictions.sum())
  assert recall == pytest.approx(true_positives / labels.sum())


def exact_roc_auc(scores, labels):
  positives, negatives = scores[labels], scores[~labels]
  wins = (positives[:, None] > negatives[None, :]).sum()
  ties = (positives[:, None] == negatives[None, :]).sum()
  return (wins + 0.5 * ties) / (len(positives) * len(negatives))


def test_streaming_auc_approximates_exact_roc_auc():
  scores = RNG.rand(NUM_BATCHES * BATCH).astype(np.float32)
  labels = RNG.rand(NUM_BATCHES * BATCH) < scores  # informative scores
  auc, _ = stream(lambda p, l: slim.metrics.streaming_auc(p, l, num_thresholds=2000),
                  scores, labels)
  assert auc == pytest.approx(exact_roc_auc(scores, labels), abs=0.02)
  with pytest.raises(ValueError, match='curve'):
    with tf.Graph().as_default():
      slim.metrics.streaming_auc(tf.constant([0.5]), tf.constant([True]), curve='XX')


def test_streaming_errors():
  predictions, labels = data(3), data(3) + 0.5
  normalizer = data(3) + 1.0
  mae, _ = stream(slim.metrics.streaming_mean_absolute_error, predictions, labels)
  mse, _ = stream(slim.metrics.streaming_mean_squared_error, predictions, labels)
  rmse, _ = stream(slim.metrics.streaming_root_mean_squared_error, predictions, labels)
  mre, _ = stream(slim.metrics.streaming_mean_relative_error, predictions, labels, normalizer)
  mre_by_labels, _ = stream(slim.metrics.streaming_mean_relative_error, predictions, labels)
  diff = predictions - labels
  assert mae == pytest.approx(np.abs(diff).mean(), rel=1e-5)
  assert mse == pytest.approx((diff ** 2).mean(), rel=1e-5)
  assert rmse == pytest.approx(np.sqrt((diff ** 2).mean()), rel=1e-5)
  assert mre == pytest.approx((np.abs(diff) / normalizer).mean(), rel=1e-5)
  assert mre_by_labels == pytest.approx((np.abs(diff) / labels).mean(), rel=1e-5)


def test_streaming_percentage_less_and_short_name():
  values = data()
  assert slim.metrics.percentage_less is slim.metrics.streaming_percentage_less
  fraction, _ = stream(lambda v: slim.metrics.percentage_less(v, 0.3), values)
  assert fraction == pytest.approx((values < 0.3).mean())


def test_streaming_recall_at_k():
  scores = data(5)
  labels = RNG.randint(0, 5, NUM_BATCHES * BATCH)
  recall, _ = stream(lambda p, l: slim.metrics.streaming_recall_at_k(p, l, k=2), scores, labels)
  top2 = np.argsort(-scores, axis=1)[:, :2]
  assert recall == pytest.approx((top2 == labels[:, None]).any(1).mean())


def test_streaming_sparse_recall_at_k_with_several_labels():
  scores = data(6)
  labels = np.stack([RNG.choice(6, 2, replace=False) for _ in scores]).astype(np.int64)
  recall, _ = stream(lambda p, l: slim.metrics.streaming_sparse_recall_at_k(p, l, k=3),
                     scores, labels)
  top3 = np.argsort(-scores, axis=1)[:, :3]
  hits = sum(len(set(t) & set(l)) for t, l in zip(top3, labels))
  assert recall == pytest.approx(hits / labels.size)


def test_streaming_mean_iou():
  predictions = RNG.randint(0, 3, NUM_BATCHES * BATCH)
  labels = RNG.randint(0, 3, NUM_BATCHES * BATCH)
  iou, _ = stream(lambda p, l: slim.metrics.streaming_mean_iou(p, l, num_classes=3),
                  predictions, labels)
  per_class = [((predictions == c) & (labels == c)).sum() /
               ((predictions == c) | (labels == c)).sum() for c in range(3)]
  assert iou == pytest.approx(np.mean(per_class), rel=1e-5)


def test_streaming_concat_along_axes_and_max_size():
  values = data(2)
  along_0, first = stream(slim.metrics.streaming_concat, values)
  np.testing.assert_array_equal(along_0, values)
  np.testing.assert_array_equal(first, values[:BATCH])
  capped, _ = stream(lambda v: slim.metrics.streaming_concat(v, max_size=10), values)
  np.testing.assert_array_equal(capped, values[:10])
  columns = RNG.rand(NUM_BATCHES * BATCH, 2, 3).astype(np.float32)
  along_1, _ = stream(lambda v: slim.metrics.streaming_concat(tf.transpose(v, [1, 0, 2]), axis=1),
                      columns)
  np.testing.assert_array_equal(along_1, columns.transpose(1, 0, 2))


def test_streaming_concat_rejects_unknown_dimensions():
  with tf.Graph().as_default():
    with pytest.raises(ValueError, match='statically'):
      slim.metrics.streaming_concat(tf1.placeholder(tf.float32, [None, None]))
    with pytest.raises(ValueError, match='axis'):
      slim.metrics.streaming_concat(tf.zeros([2, 2]), axis=2)


def test_collections_arguments():
  with tf.Graph().as_default():
    value, update = slim.metrics.streaming_mean(tf.constant([1.0]), metrics_collections=['m'],
                                                updates_collections=['u'])
    assert tf1.get_collection('m') == [value] and tf1.get_collection('u') == [update]
    assert all(v in tf1.get_collection(tf1.GraphKeys.METRIC_VARIABLES)
               for v in tf1.get_collection(tf1.GraphKeys.LOCAL_VARIABLES))


def test_aggregate_metrics_and_metric_map():
  predictions, labels = data(), data()
  with tf.Graph().as_default():
    p, l = tf.constant(predictions), tf.constant(labels)
    mae = slim.metrics.streaming_mean_absolute_error(p, l)
    mse = slim.metrics.streaming_mean_squared_error(p, l)
    value_ops, update_ops = slim.metrics.aggregate_metrics(mae, mse)
    assert value_ops == [mae[0], mse[0]] and update_ops == [mae[1], mse[1]]
    names_to_values, names_to_updates = slim.metrics.aggregate_metric_map(
        {'mae': mae, 'acc': slim.metrics.accuracy(p > 0.5, l > 0.5)})
    assert list(names_to_values) == ['mae', 'acc']
    with tf1.Session() as sess:
      sess.run(tf1.local_variables_initializer())
      sess.run(names_to_updates)
      values = sess.run(names_to_values)
  assert values['mae'] == pytest.approx(np.abs(predictions - labels).mean(), rel=1e-5)
  assert values['acc'] == pytest.approx(((predictions > 0.5) == (labels > 0.5)).mean())
  with pytest.raises(ValueError):
    slim.metrics.aggregate_metrics()


def test_short_names_are_streaming_metrics():
  assert slim.metrics.accuracy is slim.metrics.streaming_accuracy
  assert slim.metrics.precision is slim.metrics.streaming_precision
  assert slim.metrics.recall is slim.metrics.streaming_recall
