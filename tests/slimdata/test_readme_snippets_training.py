"""The TF-Slim README's training-side snippets, run after changing only the imports.

Each test body is the README's code with `import tensorflow.compat.v1 as tf` and
`import slimdata as slim`. The README's `...` placeholders are filled by the
helpers below (a tiny conv net stands in for VGG-16; a finite tf.data input
stands in for the data loaders). Other departures, each marked `# README:`,
are Python 3 (`dict.values()` is not fetchable, `iteritems`), sizes cut for the
test budget, and stopping conditions for loops the README leaves unbounded.
"""
import math
import os

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

import slimdata as slim

RNG = np.random.RandomState(4)
NUM_CLASSES = 3
IMAGES = RNG.rand(24, 8, 8, 3).astype(np.float32)
LABELS = np.argmax(IMAGES.mean((1, 2)), 1)  # the brightest channel: learnable


def load_batches(batch_size=8, num_epochs=1, one_hot=True):
  """One example per run from tf.data, batched by tf.train.batch, as the providers are used."""
  dataset = tf.data.Dataset.from_tensor_slices((IMAGES, LABELS)).repeat(num_epochs)
  image, label = tf.data.make_one_shot_iterator(dataset).get_next()
  images, labels = tf.train.batch([image, label], batch_size=batch_size)
  return images, (tf.one_hot(labels, NUM_CLASSES) if one_hot else labels)


def tiny_net(images, num_classes=NUM_CLASSES, weight_decay=0.0):
  """conv1 -> pool -> fc8 logits: scopes named like VGG's so the README's filters apply."""
  net = slim.conv2d(images, 4, [3, 3], scope='conv1',
                    weights_regularizer=slim.l2_regularizer(weight_decay) if weight_decay else None)
  net = slim.max_pool2d(net, [2, 2], scope='pool1')
  net = slim.flatten(net)
  return slim.fully_connected(net, num_classes, activation_fn=None, scope='fc8')


def run(fetches):
  with tf.Session() as sess:
    sess.run(tf.global_variables_initializer())
    with slim.queues.QueueRunners(sess):
      return sess.run(fetches)


def np_xent(logits, onehot):
  shifted = logits - logits.max(1, keepdims=True)
  return -(onehot * (shifted - np.log(np.exp(shifted).sum(1, keepdims=True)))).sum(1).mean()


def test_losses_classification():
  with tf.Graph().as_default():
    # Load the images and labels.
    images, labels = load_batches()

    # Create the model.
    predictions = tiny_net(images)  # README: predictions, _ = vgg.vgg_16(images)

    # Define the loss functions and get the total loss.
    loss = slim.losses.softmax_cross_entropy(predictions, labels)

    assert slim.losses.get_losses() == [loss]
    logits, onehot, value = run([predictions, labels, loss])
  assert value == pytest.approx(np_xent(logits, onehot), rel=1e-5)


def create_multi_task_model(images):
  logits = tiny_net(images, weight_decay=0.05)
  return logits, tf.reduce_mean(images, 3), tf.reduce_mean(images, [1, 2])


def test_losses_multi_task():
  with tf.Graph().as_default():
    # Load the images and labels.
    images, scene_labels = load_batches()
    depth_labels = tf.zeros_like(images[..., 0])

    # Create the model.
    scene_predictions, depth_predictions, _ = create_multi_task_model(images)

    # Define the loss functions and get the total loss.
    classification_loss = slim.losses.softmax_cross_entropy(scene_predictions, scene_labels)
    sum_of_squares_loss = slim.losses.sum_of_squares(depth_predictions, depth_labels)

    # The following two lines have the same effect:
    total_loss = classification_loss + sum_of_squares_loss
    total_loss = slim.losses.get_total_loss(add_regularization_losses=False)

    manual, managed = run([classification_loss + sum_of_squares_loss, total_loss])
  assert managed == pytest.approx(manual, rel=1e-6)


def test_losses_custom_loss_with_add_loss():
  def MyCustomLossFunction(predictions, labels):
    return tf.reduce_mean(tf.abs(predictions - labels))

  with tf.Graph().as_default():
    # Load the images and labels.
    images, scene_labels = load_batches()
    depth_labels = tf.zeros_like(images[..., 0])
    pose_labels = tf.ones_like(images[:, 0, 0, :])

    # Create the model.
    scene_predictions, depth_predictions, pose_predictions = create_multi_task_model(images)

    # Define the loss functions and get the total loss.
    classification_loss = slim.losses.softmax_cross_entropy(scene_predictions, scene_labels)
    sum_of_squares_loss = slim.losses.sum_of_squares(depth_predictions, depth_labels)
    pose_loss = MyCustomLossFunction(pose_predictions, pose_labels)
    slim.losses.add_loss(pose_loss)  # Letting TF-Slim know about the additional loss.

    # The following two ways to compute the total loss are equivalent:
    regularization_loss = tf.add_n(slim.losses.get_regularization_losses())
    total_loss1 = classification_loss + sum_of_squares_loss + pose_loss + regularization_loss

    # (Regularization Loss is included in the total loss by default).
    total_loss2 = slim.losses.get_total_loss()

    total1, total2, regularization = run([total_loss1, total_loss2, regularization_loss])
  assert regularization > 0
  assert total2 == pytest.approx(total1, rel=1e-6)


def test_training_loop(tmp_path):
  learning_rate = 0.5
  g = tf.Graph()
  with g.as_default():  # README: builds in the default graph; a fresh one keeps tests apart
    tf.set_random_seed(0)  # README: none; 30 steps from a random init stayed above chance
    # in ~1 run of 200, so the init is fixed
    # Create the model and specify the losses...
    images, labels = load_batches(num_epochs=None)
    slim.losses.softmax_cross_entropy(tiny_net(images), labels)

    total_loss = slim.losses.get_total_loss()
    optimizer = tf.train.GradientDescentOptimizer(learning_rate)

    # create_train_op ensures that each time we ask for the loss, the update_ops
    # are run and the gradients being computed are applied too.
    train_op = slim.learning.create_train_op(total_loss, optimizer)
    logdir = str(tmp_path)  # Where checkpoints are stored.

    final_loss = slim.learning.train(
        train_op,
        logdir,
        number_of_steps=30,  # README: 1000
        save_summaries_secs=300,
        save_interval_secs=600)

  assert tf.train.latest_checkpoint(logdir) == os.path.join(logdir, 'model.ckpt-30')
  assert final_loss < math.log(NUM_CLASSES)  # below chance: it learned


def test_working_example_training(tmp_path):
  train_log_dir = str(tmp_path / 'train')
  if not tf.gfile.Exists(train_log_dir):
    tf.gfile.MakeDirs(train_log_dir)

  with tf.Graph().as_default():
    # Set up the data loading:
    images, labels = load_batches(num_epochs=2)  # 24 examples twice: 6 batches, then the end

    # Define the model:
    predictions = tiny_net(images)  # README: vgg.vgg_16(images, is_training=True)

    # Specify the loss function:
    slim.losses.softmax_cross_entropy(predictions, labels)

    total_loss = slim.losses.get_total_loss()
    tf.summary.scalar('losses/total_loss', total_loss)

    # Specify the optimization scheme:
    optimizer = tf.train.GradientDescentOptimizer(learning_rate=.001)

    # create_train_op that ensures that when we evaluate it to get the loss,
    # the update_ops are done and the gradient updates are computed.
    train_tensor = slim.learning.create_train_op(total_loss, optimizer)

    # Actually runs training.
    slim.learning.train(train_tensor, train_log_dir)

  # 6 batches: 5 training steps, and the one the first summary_op run took (summaries run
  # on their own, as under TF-Slim's Supervisor).
  assert tf.train.latest_checkpoint(train_log_dir).endswith('model.ckpt-5')
  event_files = tf.gfile.Glob(os.path.join(train_log_dir, 'events.out.tfevents.*'))
  tags = {v.tag for f in event_files for e in tf.train.summary_iterator(f) for v in e.summary.value}
  assert 'losses/total_loss' in tags


def save_model(path, build):
  """Saves the variables `build()` creates, with random values; returns name -> value."""
  with tf.Graph().as_default():
    build()
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      tf.train.Saver().save(sess, path)
      return {v.op.name: sess.run(v) for v in tf.global_variables()}


def test_partially_restoring_models(tmp_path):
  model_path = str(tmp_path / 'model.ckpt')
  init = tf.random_normal_initializer()
  saved = save_model(model_path, lambda: (slim.variable(name='v1', shape=[2], initializer=init),
                                          slim.variable(name='nested/v2', shape=[3],
                                                        initializer=init)))
  with tf.Graph().as_default():
    # Create some variables.
    v1 = slim.variable(name="v1", shape=[2])
    v2 = slim.variable(name="nested/v2", shape=[3])

    # Get list of variables to restore (which contains only 'v2'). These are all
    # equivalent methods:
    alternatives = []
    variables_to_restore = slim.get_variables_by_name("v2")
    alternatives.append(variables_to_restore)
    # or
    variables_to_restore = slim.get_variables_by_suffix("2")
    alternatives.append(variables_to_restore)
    # or
    variables_to_restore = slim.get_variables(scope="nested")
    alternatives.append(variables_to_restore)
    # or
    variables_to_restore = slim.get_variables_to_restore(include=["nested"])
    alternatives.append(variables_to_restore)
    # or
    variables_to_restore = slim.get_variables_to_restore(exclude=["v1"])
    alternatives.append(variables_to_restore)
    assert all(found == [v2] for found in alternatives)

    # Create the saver which will be used to restore the variables.
    restorer = tf.train.Saver(variables_to_restore)

    with tf.Session() as sess:
      # Restore variables from disk.
      restorer.restore(sess, model_path)
      # Do some work with the model
      np.testing.assert_array_equal(sess.run(v2), saved['nested/v2'])
      assert sess.run(tf.report_uninitialized_variables()).tolist() == [b'v1']


def test_restoring_models_with_different_variable_names(tmp_path):
  model_path = str(tmp_path / 'model.ckpt')

  def vgg16_scoped_model():
    with tf.variable_scope('vgg16'):
      tiny_net(tf.zeros([1, 8, 8, 3]))

  saved = save_model(model_path, vgg16_scoped_model)
  with tf.Graph().as_default():
    tiny_net(tf.zeros([1, 8, 8, 3]))

    # Assuming that 'conv1/weights' should be restored from 'vgg16/conv1/weights'
    def name_in_checkpoint(var):
      return 'vgg16/' + var.op.name

    variables_to_restore = slim.get_model_variables()
    variables_to_restore = {name_in_checkpoint(var): var for var in variables_to_restore}
    restorer = tf.train.Saver(variables_to_restore)

    with tf.Session() as sess:
      # Restore variables from disk.
      restorer.restore(sess, model_path)
      for name, var in variables_to_restore.items():
        np.testing.assert_array_equal(sess.run(var), saved[name])
  assert sorted(variables_to_restore) == ['vgg16/conv1/biases', 'vgg16/conv1/weights',
                                          'vgg16/fc8/biases', 'vgg16/fc8/weights']


def test_restoring_with_a_renaming_function(tmp_path):
  model_path = str(tmp_path / 'model.ckpt')
  init = tf.random_normal_initializer()
  saved = save_model(model_path, lambda: (
      slim.model_variable('conv1/params1', shape=[2], initializer=init),
      slim.model_variable('conv1/params2', shape=[2], initializer=init)))
  with tf.Graph().as_default():
    with tf.variable_scope('conv1'):
      slim.model_variable('weights', shape=[2])
      slim.model_variable('bias', shape=[2])

    # Assuming that 'conv1/weights' and 'conv1/bias' should be restored from
    # 'conv1/params1' and 'conv1/params2'
    def name_in_checkpoint(var):
      if "weights" in var.op.name:
        return var.op.name.replace("weights", "params1")
      if "bias" in var.op.name:
        return var.op.name.replace("bias", "params2")

    variables_to_restore = slim.get_model_variables()
    variables_to_restore = {name_in_checkpoint(var): var for var in variables_to_restore}
    restorer = tf.train.Saver(variables_to_restore)

    with tf.Session() as sess:
      # Restore variables from disk.
      restorer.restore(sess, model_path)
      for name, var in variables_to_restore.items():
        np.testing.assert_array_equal(sess.run(var), saved[name])


def test_fine_tuning_a_model_on_a_different_task(tmp_path):
  model_path = str(tmp_path / 'pre_trained_on_imagenet.checkpoint')

  def imagenet_model():  # trained with slim.learning.train: its checkpoint has a global step
    tiny_net(tf.zeros([1, 8, 8, 3]), num_classes=10)
    slim.get_or_create_global_step()

  pretrained = save_model(model_path, imagenet_model)

  def MyPascalVocDataLoader():
    dataset = tf.data.Dataset.from_tensor_slices((IMAGES, LABELS))
    return tf.data.make_one_shot_iterator(dataset).get_next()

  with tf.Graph().as_default():
    # Load the Pascal VOC data
    image, label = MyPascalVocDataLoader()
    images, labels = tf.train.batch([image, label], batch_size=8)  # README: 32

    # Create the model
    predictions = tiny_net(images)  # README: vgg.vgg_16(images); 3 classes instead of 10

    slim.losses.sparse_softmax_cross_entropy(predictions, labels)
    train_op = slim.learning.create_train_op(  # README: create_train_op(...)
        slim.losses.get_total_loss(), tf.train.GradientDescentOptimizer(0.1),
        variables_to_train=slim.get_variables('fc8'))

    # Specify where the Model, trained on ImageNet, was saved.
    model_path = model_path  # README: '/path/to/pre_trained_on_imagenet.checkpoint'

    # Specify where the new model will live:
    log_dir = str(tmp_path / 'my_pascal_model_dir')

    # Restore only the convolutional layers:
    variables_to_restore = slim.get_variables_to_restore(exclude=['fc6', 'fc7', 'fc8'])
    init_fn = slim.assign_from_checkpoint_fn(model_path, variables_to_restore)  # README: no slim.

    # Start training.
    slim.learning.train(train_op, log_dir, init_fn=init_fn)

  assert {v.op.name for v in variables_to_restore} == {'conv1/weights', 'conv1/biases',
                                                       'global_step'}
  checkpoint = tf.train.latest_checkpoint(log_dir)
  assert checkpoint.endswith('model.ckpt-3')  # the input's 24 examples in batches of 8
  np.testing.assert_array_equal(tf.train.load_variable(checkpoint, 'conv1/weights'),
                                pretrained['conv1/weights'])
  assert tf.train.load_variable(checkpoint, 'fc8/weights').shape == (64, NUM_CLASSES)


def regression_data():
  predictions = tf.constant(RNG.rand(3, 8).astype(np.float32))
  labels = tf.constant(RNG.rand(3, 8).astype(np.float32) + 0.5)
  batch_id = tf.placeholder_with_default(0, [])
  return predictions[batch_id], labels[batch_id], batch_id


def test_metrics():
  with tf.Graph().as_default():
    predictions, labels, _ = regression_data()
    mean_relative_errors = tf.abs(predictions - labels) / labels

    mae_value_op, mae_update_op = slim.metrics.streaming_mean_absolute_error(predictions, labels)
    mre_value_op, mre_update_op = slim.metrics.streaming_mean_relative_error(predictions, labels)
    pl_value_op, pl_update_op = slim.metrics.percentage_less(mean_relative_errors, 0.3)

    with tf.Session() as sess:
      sess.run(tf.local_variables_initializer())
      p, l = sess.run([predictions, labels])
      sess.run([mae_update_op, mre_update_op, pl_update_op])
      mae, mre, pl = sess.run([mae_value_op, mre_value_op, pl_value_op])
  assert mae == pytest.approx(np.abs(p - l).mean(), rel=1e-5)
  assert mre == pytest.approx((np.abs(p - l) / l).mean(), rel=1e-5)
  assert pl == pytest.approx((np.abs(p - l) / l < 0.3).mean())


def test_metrics_aggregation_and_working_example():
  with tf.Graph().as_default():
    predictions, labels, batch_id = regression_data()

    # Aggregates the value and update ops in two lists:
    value_ops, update_ops = slim.metrics.aggregate_metrics(
        slim.metrics.streaming_mean_absolute_error(predictions, labels),
        slim.metrics.streaming_mean_squared_error(predictions, labels))

    # Aggregates the value and update ops in two dictionaries:
    names_to_values, names_to_updates = slim.metrics.aggregate_metric_map({
        "eval/mean_absolute_error": slim.metrics.streaming_mean_absolute_error(predictions, labels),
        "eval/mean_squared_error": slim.metrics.streaming_mean_squared_error(predictions, labels),
    })

    # Evaluate the model using 1000 batches of data:
    num_batches = 3  # README: 1000

    results = {}
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      sess.run(tf.local_variables_initializer())

      everything = []
      for batch_id_value in range(num_batches):
        # README: sess.run(names_to_updates.values()); Python 3 views are not fetchable.
        sess.run(list(names_to_updates.values()), {batch_id: batch_id_value})
        sess.run(update_ops, {batch_id: batch_id_value})
        everything.append(sess.run([predictions, labels], {batch_id: batch_id_value}))

      metric_values = sess.run(list(names_to_values.values()))  # README: no list()
      for metric, value in zip(names_to_values.keys(), metric_values):
        results[metric] = value  # README: print('Metric %s has value: %f' % (metric, value))
      listed = sess.run(value_ops)

  diffs = np.concatenate([p - l for p, l in everything])
  assert results['eval/mean_absolute_error'] == pytest.approx(np.abs(diffs).mean(), rel=1e-5)
  assert results['eval/mean_squared_error'] == pytest.approx((diffs ** 2).mean(), rel=1e-5)
  np.testing.assert_allclose(listed, metric_values, rtol=1e-6)


def test_evaluation_loop(tmp_path):
  checkpoint_dir = str(tmp_path / 'train')
  log_dir = str(tmp_path / 'eval')

  def MyModel(images):
    return tf.argmax(tiny_net(images), 1)

  with tf.Graph().as_default():  # a model to evaluate
    images, labels = load_batches(num_epochs=None)
    slim.losses.softmax_cross_entropy(tiny_net(images), labels)
    train_op = slim.learning.create_train_op(slim.losses.get_total_loss(),
                                             tf.train.GradientDescentOptimizer(0.5))
    slim.learning.train(train_op, checkpoint_dir, number_of_steps=20)

  with tf.Graph().as_default():
    # Load the data
    images, labels = load_batches(one_hot=False)  # README: load_data(...)

    # Define the network
    predictions = MyModel(images)

    # Choose the metrics to compute:
    names_to_values, names_to_updates = slim.metrics.aggregate_metric_map({
        'accuracy': slim.metrics.accuracy(predictions, labels),
        'precision': slim.metrics.precision(predictions, labels),
        # README: recall(mean_relative_errors, 0.3), which no TF version accepts.
        'recall': slim.metrics.recall(predictions, labels),
    })

    # Create the summary ops such that they also print out to std output:
    summary_ops = []
    for metric_name, metric_value in names_to_values.items():  # README: iteritems()
      op = tf.summary.scalar(metric_name, metric_value)
      op = tf.Print(op, [metric_value], metric_name)
      summary_ops.append(op)

    num_examples = 24  # README: 10000
    batch_size = 8  # README: 32
    num_batches = math.ceil(num_examples / float(batch_size))

    # Setup the global step.
    slim.get_or_create_global_step()

    output_dir = log_dir  # Where the summaries are stored.
    eval_interval_secs = 0  # How often to run the evaluation.
    slim.evaluation.evaluation_loop(
        'local',
        checkpoint_dir,
        log_dir,
        num_evals=num_batches,
        eval_op=names_to_updates.values(),
        summary_op=tf.summary.merge(summary_ops),
        eval_interval_secs=eval_interval_secs,
        max_number_of_evaluations=1)  # README: runs until stopped

  accuracy_events = [(e.step, v.simple_value)
                     for f in tf.gfile.Glob(os.path.join(output_dir, 'events.out.tfevents.*'))
                     for e in tf.train.summary_iterator(f) for v in e.summary.value
                     if v.tag.startswith('accuracy')]  # 'accuracy_1': the metric owns 'accuracy'
  weights = {name: tf.train.load_variable(checkpoint_dir, name)
             for name in ('conv1/weights', 'conv1/biases', 'fc8/weights', 'fc8/biases')}
  assert accuracy_events == [(20, pytest.approx(np_accuracy(weights), abs=1e-6))]


def np_accuracy(weights):
  """The tiny net's accuracy on IMAGES with the given weights, in NumPy."""
  padded = np.pad(IMAGES, ((0, 0), (1, 1), (1, 1), (0, 0)))
  conv = np.zeros(IMAGES.shape[:3] + (4,), np.float32)
  for dy in range(3):
    for dx in range(3):
      conv += padded[:, dy:dy + 8, dx:dx + 8, :] @ weights['conv1/weights'][dy, dx]
  conv = np.maximum(conv + weights['conv1/biases'], 0)
  pooled = conv.reshape(-1, 4, 2, 4, 2, 4).max((2, 4)).reshape(len(IMAGES), -1)
  logits = pooled @ weights['fc8/weights'] + weights['fc8/biases']
  return float((np.argmax(logits, 1) == LABELS).mean())
