"""LeNet: research/slim's scope and variable names, shapes, and that it learns."""
import numpy as np
import tensorflow as tf

from models import lenet


def _bar_images(labels, rng):
  """28x28 digits stand-in: class k is a bright bar at rows 2k+4..2k+5, on noise."""
  images = rng.uniform(0, 0.3, [len(labels), 28, 28, 1]).astype(np.float32)
  for i, label in enumerate(labels):
    images[i, 2 * label + 4:2 * label + 6, 4:24, 0] += 1.0
  return images


def test_default_image_size_is_mnist():
  assert lenet.lenet.default_image_size == 28


def test_builds_research_slim_end_points_and_variables(nets):
  net = nets.default_net('lenet')
  shapes = {name: t.shape.as_list() for name, t in net.end_points.items()}
  assert shapes == {
      'conv1': [1, 28, 28, 32], 'pool1': [1, 14, 14, 32], 'conv2': [1, 14, 14, 64],
      'pool2': [1, 7, 7, 64], 'Flatten': [1, 3136], 'fc3': [1, 1024], 'dropout3': [1, 1024],
      'Logits': [1, 10], 'Predictions': [1, 10]}
  assert net.shapes == {
      'LeNet/conv1/weights': [5, 5, 1, 32], 'LeNet/conv1/biases': [32],
      'LeNet/conv2/weights': [5, 5, 32, 64], 'LeNet/conv2/biases': [64],
      'LeNet/fc3/weights': [3136, 1024], 'LeNet/fc3/biases': [1024],
      'LeNet/fc4/weights': [1024, 10], 'LeNet/fc4/biases': [10]}
  assert net.num_parameters == 3_274_634
  assert net.logits.shape.as_list() == [1, 10]


def test_without_num_classes_returns_fc3_features(nets):
  net = nets.build_net('lenet', num_classes=0)
  assert net.logits.shape.as_list() == [1, 1024]
  assert 'LeNet/fc4/weights' not in net.variables


def test_arg_scope_weight_decay_adds_one_l2_loss_per_weight(nets):
  from models import nets_factory
  with tf.Graph().as_default():
    network_fn = nets_factory.get_network_fn('lenet', num_classes=10, weight_decay=0.5)
    network_fn(tf.zeros([1, 28, 28, 1]))
    losses = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES)
    weights = [v for v in tf.compat.v1.global_variables() if v.op.name.endswith('weights')]
    expected = sum(0.5 * 0.5 * tf.reduce_sum(tf.square(w)) for w in weights)
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      got, want = sess.run([tf.add_n(losses), expected])
  assert len(losses) == 4
  np.testing.assert_allclose(got, want, rtol=1e-5)


def test_predictions_are_softmax_of_logits(nets):
  net = nets.build_net('lenet', num_classes=10, is_training=False)
  images = np.random.default_rng(1).uniform(0, 1, [1, 28, 28, 1]).astype(np.float32)
  with tf.compat.v1.Session(graph=net.graph) as sess:
    sess.run(tf.compat.v1.initializers.global_variables())
    logits, predictions = sess.run([net.logits, net.end_points['Predictions']],
                                   {net.images: images})
  expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
  np.testing.assert_allclose(predictions, expected, rtol=1e-5)


def test_one_training_step_updates_first_and_last_layer(nets):
  loss, changes = nets.train_one_step(nets.default_net('lenet'))
  assert np.isfinite(loss)
  assert set(changes) == {'LeNet/conv1/weights', 'LeNet/fc4/weights'}
  assert min(changes.values()) > 0


def test_short_training_run_lowers_the_loss():
  from models import nets_factory
  rng = np.random.default_rng(0)
  labels = rng.integers(0, 10, 64)
  images = _bar_images(labels, rng)
  with tf.Graph().as_default():
    tf.compat.v1.set_random_seed(0)
    network_fn = nets_factory.get_network_fn('lenet', num_classes=10, is_training=True)
    logits, _ = network_fn(tf.constant(images))
    loss = tf.compat.v1.losses.sparse_softmax_cross_entropy(tf.constant(labels), logits)
    train_op = tf.compat.v1.train.AdamOptimizer(1e-3).minimize(loss)
    with tf.compat.v1.Session() as sess:
      sess.run(tf.compat.v1.global_variables_initializer())
      first = sess.run(loss)
      for _ in range(30):
        sess.run(train_op)
      last = sess.run(loss)
  assert last < 0.3 * first, (first, last)
