"""slim.learning: create_train_op's gradient step, and train's checkpoints, resume and stop."""
import glob
import json
import os
import threading

import numpy as np
import pytest
import tensorflow as tf

import slimdata as slim

tf1 = tf.compat.v1
RNG = np.random.RandomState(2)
X = RNG.randn(32, 3).astype(np.float32)
Y = (X @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)


def np_loss_and_grad(w):
  residual = X @ w - Y
  return (residual ** 2).mean(), 2 * X.T @ residual / len(X)


def regression_loss(x=None, y=None, init=0.0):
  """Mean squared error of a linear model; its weights variable is 'weights'."""
  x = tf.constant(X) if x is None else x
  y = tf.constant(Y) if y is None else y
  w = tf1.get_variable('weights', [3, 1], initializer=tf1.constant_initializer(init))
  slim.losses.mean_squared_error(tf.matmul(x, w), y)
  return slim.losses.get_total_loss(), w


def one_step(**create_kwargs):
  """Runs one step of train_op with SGD(lr=1) from zero weights; returns (loss, new weights)."""
  with tf.Graph().as_default():
    loss, w = regression_loss()
    train_op = slim.learning.create_train_op(loss, tf1.train.GradientDescentOptimizer(1.0),
                                             **create_kwargs)
    with tf1.Session() as sess:
      sess.run(tf1.global_variables_initializer())
      value = sess.run(train_op)
      return value, sess.run(w), sess.run(tf1.train.get_global_step())


def test_train_op_returns_the_loss_and_applies_one_gradient_step():
  loss, w, step = one_step()
  expected_loss, grad = np_loss_and_grad(np.zeros([3, 1], np.float32))
  assert loss == pytest.approx(expected_loss, rel=1e-5)
  np.testing.assert_allclose(w, -grad, rtol=1e-5)
  assert step == 1


def test_clip_gradient_norm():
  _, w, _ = one_step(clip_gradient_norm=0.5)
  _, grad = np_loss_and_grad(np.zeros([3, 1], np.float32))
  np.testing.assert_allclose(w, -grad * 0.5 / np.linalg.norm(grad), rtol=1e-5)


@pytest.mark.parametrize('key', ['weights', 'variable'])
def test_gradient_multipliers_by_name_or_variable(key):
  with tf.Graph().as_default():
    loss, w = regression_loss()
    multipliers = {'weights' if key == 'weights' else w: 0.25}
    train_op = slim.learning.create_train_op(loss, tf1.train.GradientDescentOptimizer(1.0),
                                             gradient_multipliers=multipliers)
    with tf1.Session() as sess:
      sess.run(tf1.global_variables_initializer())
      sess.run(train_op)
      new_w = sess.run(w)
  _, grad = np_loss_and_grad(np.zeros([3, 1], np.float32))
  np.testing.assert_allclose(new_w, -0.25 * grad, rtol=1e-5)


def test_transform_grads_fn_sees_the_pairs():
  seen = []

  def zero_grads(grads_and_vars):
    seen.extend(v.op.name for _, v in grads_and_vars)
    return [(tf.zeros_like(g), v) for g, v in grads_and_vars]

  _, w, _ = one_step(transform_grads_fn=zero_grads)
  assert seen == ['weights']
  np.testing.assert_array_equal(w, np.zeros([3, 1]))


def test_update_ops_run_with_each_step_unless_overridden():
  with tf.Graph().as_default():
    loss, _ = regression_loss()
    counter = tf1.get_variable('counter', [], initializer=tf1.zeros_initializer(), trainable=False)
    tf1.add_to_collection(tf1.GraphKeys.UPDATE_OPS, counter.assign_add(1.0))
    optimizer = tf1.train.GradientDescentOptimizer(0.1)
    default_op = slim.learning.create_train_op(loss, optimizer)
    no_updates_op = slim.learning.create_train_op(loss, optimizer, update_ops=[])
    with tf1.Session() as sess:
      sess.run(tf1.global_variables_initializer())
      sess.run(default_op)
      sess.run(no_updates_op)
      assert sess.run(counter) == 1.0


def test_variables_to_train_limits_the_update():
  with tf.Graph().as_default():
    loss, w = regression_loss()
    other = tf1.get_variable('other', [], initializer=tf1.ones_initializer())
    loss = loss + other ** 2
    train_op = slim.learning.create_train_op(loss, tf1.train.GradientDescentOptimizer(0.1),
                                             variables_to_train=[other])
    with tf1.Session() as sess:
      sess.run(tf1.global_variables_initializer())
      sess.run(train_op)
      np.testing.assert_array_equal(sess.run(w), np.zeros([3, 1]))
      assert sess.run(other) == pytest.approx(1.0 - 0.1 * 2.0)


def test_summarize_gradients_and_check_numerics():
  with tf.Graph().as_default():
    loss, _ = regression_loss()
    bad_loss = loss * tf.constant(np.nan)
    train_op = slim.learning.create_train_op(bad_loss, tf1.train.GradientDescentOptimizer(0.1),
                                             summarize_gradients=True)
    tags = [s.op.inputs[0] for s in tf1.get_collection(tf1.GraphKeys.SUMMARIES)]
    assert len(tags) == 2
    with tf1.Session() as sess:
      sess.run(tf1.global_variables_initializer())
      with pytest.raises(tf.errors.InvalidArgumentError, match='LossTensor is inf or nan'):
        sess.run(train_op)


def test_gradient_helpers_handle_indexed_slices():
  with tf.Graph().as_default():
    table = tf1.get_variable('table', [4, 2], initializer=tf1.ones_initializer())
    loss = tf.reduce_sum(tf.nn.embedding_lookup(table, [1, 3]) * 3.0)
    grads = tf1.train.GradientDescentOptimizer(1.0).compute_gradients(loss, [table])
    assert isinstance(grads[0][0], tf.IndexedSlices)
    clipped = slim.learning.clip_gradient_norms(grads, 1.0)[0][0]
    scaled = slim.learning.multiply_gradients(grads, {'table': 2.0})[0][0]
    with tf1.Session() as sess:
      clipped_values, scaled_values = sess.run([clipped.values, scaled.values])
  np.testing.assert_allclose(clipped_values, np.full([2, 2], 0.5), rtol=1e-6)
  np.testing.assert_allclose(scaled_values, np.full([2, 2], 6.0))


def test_create_train_op_argument_errors():
  with tf.Graph().as_default():
    loss, _ = regression_loss()
    frozen = tf1.get_variable('frozen', [], trainable=False)
    with pytest.raises(ValueError, match='frozen'):
      slim.learning.create_train_op(loss, tf1.train.GradientDescentOptimizer(0.1),
                                    variables_to_train=[frozen])
    with pytest.raises(TypeError, match='Optimizer'):
      slim.learning.create_train_op(loss, object())
  with pytest.raises(ValueError, match='empty'):
    slim.learning.multiply_gradients([], {})


def events(logdir):
  """(tag, step, value) of every scalar summary in logdir's event files."""
  found = []
  for path in glob.glob(os.path.join(logdir, 'events.out.tfevents.*')):
    for event in tf1.train.summary_iterator(path):
      for value in event.summary.value:
        found.append((value.tag, event.step, value.simple_value))
  return found


def build_training(init=0.0, learning_rate=0.1):
  loss, w = regression_loss(init=init)
  tf1.summary.scalar('losses/total_loss', loss)
  train_op = slim.learning.create_train_op(loss,
                                           tf1.train.GradientDescentOptimizer(learning_rate))
  return train_op, w


def test_train_checkpoints_summarizes_and_stops_at_number_of_steps(tmp_path):
  logdir = str(tmp_path)
  with tf.Graph().as_default():
    train_op, _ = build_training()
    final_loss = slim.learning.train(train_op, logdir, number_of_steps=5,
                                     save_interval_secs=1e-9, save_summaries_secs=1e-9,
                                     log_every_n_steps=2)
  assert tf.train.latest_checkpoint(logdir) == os.path.join(logdir, 'model.ckpt-5')
  assert os.path.exists(os.path.join(logdir, 'model.ckpt-4.index'))
  assert os.path.exists(os.path.join(logdir, 'graph.pbtxt'))
  # The returned loss is that of the last step: of the weights saved after step 4.
  w4 = tf.train.load_variable(os.path.join(logdir, 'model.ckpt-4'), 'weights')
  assert final_loss == pytest.approx(np_loss_and_grad(w4)[0], rel=1e-5)
  assert tf.train.load_variable(logdir, 'global_step') == 5
  written = events(logdir)
  loss_steps = sorted({step for tag, step, _ in written if tag == 'losses/total_loss'})
  assert loss_steps[0] == 1 and loss_steps[-1] == 5
  assert any(tag == 'global_step/sec' for tag, _, _ in written)


def counting(step_fn, crash_at=None):
  calls = []

  def train_step_fn(sess, train_op, global_step, kwargs):
    if crash_at is not None and len(calls) == crash_at:
      raise RuntimeError('worker crashed')
    calls.append(1)
    return step_fn(sess, train_op, global_step, kwargs)

  return train_step_fn, calls


def test_train_resumes_from_the_last_checkpoint_after_a_crash(tmp_path):
  logdir = str(tmp_path)
  init_calls = []
  with tf.Graph().as_default():
    train_op, _ = build_training()
    crashing, calls = counting(slim.learning.train_step, crash_at=3)
    with pytest.raises(RuntimeError, match='worker crashed'):
      slim.learning.train(train_op, logdir, train_step_fn=crashing, number_of_steps=6,
                          save_interval_secs=1e-9)
  assert len(calls) == 3
  assert tf.train.latest_checkpoint(logdir).endswith('model.ckpt-3')
  w3 = tf.train.load_variable(logdir, 'weights')

  with tf.Graph().as_default():
    train_op, w = build_training()
    step_fn, calls = counting(slim.learning.train_step)
    restored = []

    def spy_step(sess, *args):
      if not restored:
        restored.append(sess.run(w))
      return step_fn(sess, *args)

    slim.learning.train(train_op, logdir, train_step_fn=spy_step, number_of_steps=6,
                        save_interval_secs=600, init_fn=init_calls.append)
  assert len(calls) == 3 and init_calls == []
  np.testing.assert_array_equal(restored[0], w3)
  assert tf.train.latest_checkpoint(logdir).endswith('model.ckpt-6')

  with tf.Graph().as_default():
    train_op, _ = build_training()
    step_fn, calls = counting(slim.learning.train_step)
    assert slim.learning.train(train_op, logdir, train_step_fn=step_fn, number_of_steps=6) is None
  assert calls == []


def test_train_runs_a_num_epochs_queue_input_to_its_end(tmp_path):
  with tf.Graph().as_default():
    # slice_input_producer counts epochs in a local variable and runs a queue runner.
    x, y = tf1.train.slice_input_producer([X, Y], num_epochs=2, shuffle=False)
    xs, ys = tf1.train.batch([x, y], batch_size=8)
    loss, _ = regression_loss(xs, ys)
    train_op = slim.learning.create_train_op(loss, tf1.train.GradientDescentOptimizer(0.1))
    slim.learning.train(train_op, str(tmp_path), save_summaries_secs=0)
  assert tf.train.latest_checkpoint(str(tmp_path)).endswith('model.ckpt-8')
  assert not [t for t in threading.enumerate() if t.name.startswith('QueueRunnerThread')]


def test_init_fn_sets_the_starting_point_on_a_fresh_start(tmp_path):
  start = np.array([[1.0], [-2.0], [0.5]], np.float32)
  with tf.Graph().as_default():
    train_op, w = build_training()
    assign = w.assign(start)
    loss = slim.learning.train(train_op, None, number_of_steps=1,
                               init_fn=lambda sess: sess.run(assign))
  assert loss == pytest.approx(np_loss_and_grad(start)[0], rel=1e-5)
  assert os.listdir(tmp_path) == []


def test_uninitialized_variables_are_reported(tmp_path):
  with tf.Graph().as_default():
    train_op, _ = build_training()
    with pytest.raises(RuntimeError, match='weights'):
      slim.learning.train(train_op, str(tmp_path), init_op=tf.no_op(), number_of_steps=1)


def test_trace_every_n_steps_writes_chrome_traces(tmp_path):
  with tf.Graph().as_default():
    train_op, _ = build_training()
    slim.learning.train(train_op, str(tmp_path), number_of_steps=2, trace_every_n_steps=1)
  traces = sorted(glob.glob(str(tmp_path / 'tf_trace-*.json')))
  assert traces
  with open(traces[0]) as f:
    assert any(e.get('ph') == 'X' for e in json.load(f)['traceEvents'])


def test_train_argument_errors(tmp_path):
  with tf.Graph().as_default():
    train_op, _ = build_training()
    with pytest.raises(ValueError, match='number_of_steps'):
      slim.learning.train(train_op, str(tmp_path), number_of_steps=0)
    with pytest.raises(ValueError, match='saver'):
      slim.learning.train(train_op, None, saver=tf1.train.Saver())
    with pytest.raises(ValueError, match='train_op'):
      slim.learning.train(None, str(tmp_path))
  assert os.listdir(tmp_path) == []


def test_train_with_a_single_replica_sync_optimizer(tmp_path):
  with tf.Graph().as_default():
    loss, w = regression_loss()
    optimizer = tf1.train.SyncReplicasOptimizer(tf1.train.GradientDescentOptimizer(0.1),
                                                replicas_to_aggregate=1, total_num_replicas=1)
    train_op = slim.learning.create_train_op(loss, optimizer)
    slim.learning.train(train_op, str(tmp_path), number_of_steps=3, sync_optimizer=optimizer)
    with pytest.raises(ValueError, match='startup_delay_steps'):
      slim.learning.train(train_op, str(tmp_path), sync_optimizer=optimizer,
                          startup_delay_steps=1)
  assert tf.train.latest_checkpoint(str(tmp_path)).endswith('model.ckpt-3')
  assert np.abs(tf.train.load_variable(str(tmp_path), 'weights')).sum() > 0
