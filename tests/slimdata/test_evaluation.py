"""slim.evaluation: restore a checkpoint, stream metrics, write summaries; watch a directory."""
import glob
import os

import numpy as np
import pytest
import tensorflow as tf

import slimdata as slim

tf1 = tf.compat.v1
RNG = np.random.RandomState(3)
X = RNG.randn(20, 4).astype(np.float32)
W_TRUE = RNG.randn(4, 3).astype(np.float32)
LABELS = np.argmax(X @ W_TRUE, 1)


def weights_at(step):
  """The weights saved at `step`: noisier for early steps, so accuracies differ."""
  return (W_TRUE + RNG.randn(4, 3) / step).astype(np.float32)


def np_accuracy(weights):
  return float((np.argmax(X @ weights, 1) == LABELS).mean())


def save_checkpoint(directory, step, weights, name='classifier/w'):
  with tf.Graph().as_default():
    tf1.get_variable(name, initializer=weights)
    global_step = tf1.train.get_or_create_global_step()
    with tf1.Session() as sess:
      sess.run(tf1.global_variables_initializer())
      sess.run(global_step.assign(step))
      return tf1.train.Saver().save(sess, os.path.join(directory, 'model.ckpt'),
                                    global_step=step)


def build_eval(batch_size=5, num_epochs=None, name='classifier/w'):
  """Accuracy of the classifier on X, fed through tf.data and tf.compat.v1.train.batch."""
  dataset = tf.data.Dataset.from_tensor_slices((X, LABELS))
  if num_epochs is None:
    dataset = dataset.repeat()
  x, y = tf1.data.make_one_shot_iterator(dataset).get_next()
  xs, ys = tf1.train.batch([x, y], batch_size=batch_size, allow_smaller_final_batch=True)
  w = tf1.get_variable(name, [4, 3])
  predictions = tf.argmax(tf.matmul(xs, w), 1)
  values, updates = slim.metrics.aggregate_metric_map({
      'accuracy': slim.metrics.streaming_accuracy(predictions, ys)})
  tf1.summary.scalar('eval/accuracy', values['accuracy'])
  return values, updates, w


def scalar_events(logdir, tag):
  found = []
  for path in sorted(glob.glob(os.path.join(logdir, 'events.out.tfevents.*'))):
    for event in tf1.train.summary_iterator(path):
      found += [(event.step, v.simple_value) for v in event.summary.value if v.tag == tag]
  return found


def test_evaluate_once_streams_num_evals_batches_and_writes_a_summary(tmp_path):
  weights = weights_at(2)
  checkpoint = save_checkpoint(str(tmp_path), 7, weights)
  logdir = str(tmp_path / 'eval')
  with tf.Graph().as_default():
    values, updates, _ = build_eval()
    accuracy = slim.evaluation.evaluate_once(
        '', checkpoint, logdir, num_evals=4, eval_op=list(updates.values()),
        final_op=values['accuracy'])
  assert accuracy == pytest.approx(np_accuracy(weights))
  assert scalar_events(logdir, 'eval/accuracy') == [(7, pytest.approx(accuracy))]


def test_num_evals_none_runs_until_the_input_ends(tmp_path):
  weights = weights_at(3)
  checkpoint = save_checkpoint(str(tmp_path), 1, weights)
  with tf.Graph().as_default():
    values, updates, _ = build_eval(batch_size=6, num_epochs=1)  # batches of 6, 6, 6, 2
    eval_step = slim.evaluation.get_or_create_eval_step()
    accuracy, steps = slim.evaluation.evaluate_once(
        'local', checkpoint, str(tmp_path / 'eval'), num_evals=None,
        eval_op=updates.values(), final_op=[values['accuracy'], eval_step], summary_op=None)
  assert steps == 4
  assert accuracy == pytest.approx(np_accuracy(weights))
  assert not os.path.exists(tmp_path / 'eval')


def test_variables_to_restore_maps_checkpoint_names_and_initial_op_runs_after(tmp_path):
  weights = weights_at(1)
  checkpoint = save_checkpoint(str(tmp_path), 1, weights, name='old_name/w')
  with tf.Graph().as_default():
    values, updates, w = build_eval(name='new_name/w')
    tf1.get_variable('not_in_checkpoint', [2])  # initialized, with a warning
    negate = w.assign(-w)
    accuracy = slim.evaluation.evaluate_once(
        '', checkpoint, None, num_evals=4, eval_op=list(updates.values()),
        final_op=values['accuracy'], summary_op=None, initial_op=negate,
        variables_to_restore={'old_name/w': w})
  assert accuracy == pytest.approx(np_accuracy(-weights))


class CountingHook(tf1.train.SessionRunHook):
  """Fetches the eval step on each run and asks to stop after `stop_after` runs."""

  def __init__(self, stop_after):
    self.stop_after = stop_after
    self.calls = []
    self.seen_steps = []

  def begin(self):
    self.calls.append('begin')
    self.eval_step = slim.evaluation.get_or_create_eval_step()

  def after_create_session(self, session, coord):
    self.calls.append('after_create_session')

  def before_run(self, run_context):
    return tf1.train.SessionRunArgs(self.eval_step)

  def after_run(self, run_context, run_values):
    self.seen_steps.append(run_values.results)
    if len(self.seen_steps) == self.stop_after:
      run_context.request_stop()

  def end(self, session):
    self.calls.append('end')


def test_hooks_wrap_each_eval_run_and_can_stop_it(tmp_path):
  checkpoint = save_checkpoint(str(tmp_path), 1, weights_at(1))
  hook = CountingHook(stop_after=2)
  with tf.Graph().as_default():
    _, updates, _ = build_eval()
    final_step = slim.evaluation.evaluate_once(
        '', checkpoint, None, num_evals=10, eval_op=list(updates.values()),
        final_op=slim.evaluation.get_or_create_eval_step(), summary_op=None, hooks=[hook])
  assert hook.calls == ['begin', 'after_create_session', 'end']
  assert len(hook.seen_steps) == 2 and final_step == 2


def test_evaluation_loop_evaluates_each_new_checkpoint_once(tmp_path):
  train_dir, logdir = str(tmp_path / 'train'), str(tmp_path / 'eval')
  all_weights = {step: weights_at(step) for step in (1, 2, 3)}
  save_checkpoint(train_dir, 1, all_weights[1])
  timeouts = []

  def trainer_saves_next_checkpoint():
    # Called when no new checkpoint came within `timeout`: play the trainer.
    timeouts.append(1)
    if len(timeouts) == 3:
      return True
    save_checkpoint(train_dir, len(timeouts) + 1, all_weights[len(timeouts) + 1])
    return False

  with tf.Graph().as_default():
    values, updates, _ = build_eval()
    last = slim.evaluation.evaluation_loop(
        '', train_dir, logdir, num_evals=4, eval_op=list(updates.values()),
        final_op=values['accuracy'], eval_interval_secs=0, timeout=0,
        timeout_fn=trainer_saves_next_checkpoint)
  written = scalar_events(logdir, 'eval/accuracy')
  assert [step for step, _ in written] == [1, 2, 3]
  for step, value in written:
    assert value == pytest.approx(np_accuracy(all_weights[step]))
  assert last == pytest.approx(written[-1][1])


def test_evaluation_loop_stops_after_max_number_of_evaluations(tmp_path):
  save_checkpoint(str(tmp_path), 5, weights_at(5))
  with tf.Graph().as_default():
    values, updates, _ = build_eval()
    value = slim.evaluation.evaluation_loop(
        '', str(tmp_path), str(tmp_path / 'eval'), num_evals=1,
        eval_op=list(updates.values()), final_op=values['accuracy'],
        eval_interval_secs=0, max_number_of_evaluations=1)  # no timeout: must stop by count
  assert 0.0 <= value <= 1.0
  assert [s for s, _ in scalar_events(str(tmp_path / 'eval'), 'eval/accuracy')] == [5]


def test_waiting_for_checkpoints_times_out(tmp_path):
  assert slim.evaluation.wait_for_new_checkpoint(str(tmp_path), timeout=0) is None
  assert list(slim.evaluation.checkpoints_iterator(str(tmp_path), timeout=0)) == []
  asked = []
  iterator = slim.evaluation.checkpoints_iterator(
      str(tmp_path), timeout=0, timeout_fn=lambda: asked.append(1) or len(asked) == 2)
  assert list(iterator) == [] and len(asked) == 2
  with tf.Graph().as_default():
    values, updates, _ = build_eval()
    assert slim.evaluation.evaluation_loop(
        '', str(tmp_path), str(tmp_path / 'eval'), eval_op=list(updates.values()),
        final_op=values['accuracy'], timeout=0) is None
  path = save_checkpoint(str(tmp_path), 4, weights_at(4))
  assert slim.evaluation.wait_for_new_checkpoint(str(tmp_path), timeout=0) == path
  assert slim.evaluation.wait_for_new_checkpoint(str(tmp_path), path, timeout=0) is None


def test_get_or_create_eval_step_is_one_local_counter():
  with tf.Graph().as_default():
    step = slim.evaluation.get_or_create_eval_step()
    assert slim.evaluation.get_or_create_eval_step() is step
    assert step.dtype.base_dtype == tf.int64
    assert step in tf1.get_collection(tf1.GraphKeys.LOCAL_VARIABLES)


def test_tf_slim_hooks_stop_after_n_evals_and_summarize_at_end(tmp_path):
  weights = weights_at(2)
  checkpoint = save_checkpoint(str(tmp_path), 9, weights)
  logdir = str(tmp_path / 'hook_eval')
  with tf.Graph().as_default():
    values, updates, _ = build_eval()
    tf1.train.get_or_create_global_step()  # restored: the hook writes at step 9
    accuracy = slim.evaluation.evaluate_once(
        '', checkpoint, None, num_evals=None, eval_op=list(updates.values()),
        final_op=values['accuracy'], summary_op=None,
        hooks=[slim.evaluation.StopAfterNEvalsHook(4),
               slim.evaluation.SummaryAtEndHook(log_dir=logdir)])
  assert accuracy == pytest.approx(np_accuracy(weights))  # 4 batches of 5: all of X once
  assert scalar_events(logdir, 'eval/accuracy') == [(9, pytest.approx(accuracy))]
