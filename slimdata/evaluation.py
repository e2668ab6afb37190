"""TF-Slim's evaluation: restore a checkpoint, run metric updates, write summaries.

    names_to_values, names_to_updates = slim.metrics.aggregate_metric_map({...})
    accuracy = slim.evaluation.evaluate_once('', checkpoint_path, logdir, num_evals=10,
        eval_op=list(names_to_updates.values()), final_op=names_to_values['accuracy'])

`evaluate_once` evaluates one checkpoint; `evaluation_loop` evaluates each new
checkpoint that appears in a directory. Each evaluation restores the model,
initializes local (metric) variables, runs `eval_op` `num_evals` times (or until
the input raises OutOfRangeError when `num_evals` is None), runs `final_op`
and writes `summary_op` to `logdir` at the checkpoint's global step. The graph's
queue runners run under `queues.QueueRunners`. `hooks` are
`tf.compat.v1.train.SessionRunHook`s, called as MonitoredSession would.
"""
import collections.abc
import logging
import re
import time

import tensorflow as tf

from slimdata import queues

__all__ = [
    'StopAfterNEvalsHook', 'SummaryAtEndHook', 'checkpoints_iterator', 'evaluate_once',
    'evaluation_loop', 'get_or_create_eval_step', 'wait_for_new_checkpoint',
]

_log = logging.getLogger(__name__)


class _Default:

  def __repr__(self):
    return '<default>'


_USE_DEFAULT = _Default()
# Where the evaluator leaves its eval step increment, so hooks can read the step after it.
_EVAL_STEP_UPDATE = 'slimdata_eval_step_update'


def get_or_create_eval_step(graph=None):
  """The graph's eval step: a local int64 counter of `eval_op` runs (EVAL_STEP collection)."""
  graph = graph or tf.compat.v1.get_default_graph()
  steps = graph.get_collection(tf.compat.v1.GraphKeys.EVAL_STEP)
  if len(steps) > 1:
    raise ValueError('get_or_create_eval_step: more than one tensor in GraphKeys.EVAL_STEP.')
  if steps:
    return steps[0]
  with graph.as_default(), tf.compat.v1.variable_scope('', reuse=tf.compat.v1.AUTO_REUSE):
    return tf.compat.v1.get_variable(
        'eval_step', shape=[], dtype=tf.int64, initializer=tf.compat.v1.zeros_initializer(),
        trainable=False,
        collections=[tf.compat.v1.GraphKeys.LOCAL_VARIABLES, tf.compat.v1.GraphKeys.EVAL_STEP])


class StopAfterNEvalsHook(tf.compat.v1.train.SessionRunHook):
  """Requests a stop once the eval step reaches `num_evals` (TF-Slim's hook, for `hooks=`)."""

  def __init__(self, num_evals, log_progress=True):
    self._num_evals = num_evals
    self._log_progress = log_progress
    self._eval_step = None

  def begin(self):
    updates = tf.compat.v1.get_collection(_EVAL_STEP_UPDATE)[-1:]
    with tf.control_dependencies(updates):  # the count including the run it is fetched in
      self._eval_step = tf.identity(get_or_create_eval_step().read_value())

  def before_run(self, run_context):
    return tf.compat.v1.train.SessionRunArgs({'evals_completed': self._eval_step})

  def after_run(self, run_context, run_values):
    evals_completed = run_values.results['evals_completed']
    if self._log_progress:
      _log.info('Evaluation [%d/%d]', evals_completed, self._num_evals)
    if self._num_evals is not None and evals_completed >= self._num_evals:
      run_context.request_stop()


class SummaryAtEndHook(tf.compat.v1.train.SessionRunHook):
  """Writes `summary_op` (default `merge_all()`) once, when the session ends."""

  def __init__(self, log_dir=None, summary_writer=None, summary_op=None, feed_dict=None):
    if log_dir is None and summary_writer is None:
      raise ValueError('SummaryAtEndHook: pass log_dir or summary_writer.')
    self._log_dir = log_dir
    self._summary_writer = summary_writer
    self._summary_op = summary_op
    self._feed_dict = feed_dict
    self._global_step = None

  def begin(self):
    if self._summary_op is None:
      self._summary_op = tf.compat.v1.summary.merge_all()
    if self._summary_writer is None:
      self._summary_writer = tf.compat.v1.summary.FileWriterCache.get(self._log_dir)
    self._global_step = tf.compat.v1.train.get_global_step()

  def end(self, session):
    step = int(session.run(self._global_step)) if self._global_step is not None else None
    self._summary_writer.add_summary(session.run(self._summary_op, self._feed_dict), step)
    self._summary_writer.flush()


def wait_for_new_checkpoint(checkpoint_dir, last_checkpoint=None, seconds_to_sleep=1,
                            timeout=None):
  """Waits until `checkpoint_dir`'s newest checkpoint differs from `last_checkpoint`.

  Returns its path, or None after `timeout` seconds.
  """
  _log.info('Waiting for new checkpoint at %s', checkpoint_dir)
  stop_time = time.time() + timeout if timeout is not None else None
  while True:
    checkpoint_path = tf.train.latest_checkpoint(checkpoint_dir)
    if checkpoint_path is not None and checkpoint_path != last_checkpoint:
      _log.info('Found new checkpoint at %s', checkpoint_path)
      return checkpoint_path
    if stop_time is not None and time.time() + seconds_to_sleep > stop_time:
      return None
    time.sleep(seconds_to_sleep)


def checkpoints_iterator(checkpoint_dir, min_interval_secs=0, timeout=None, timeout_fn=None):
  """Yields each new newest checkpoint of `checkpoint_dir`, at most every `min_interval_secs`.

  After `timeout` seconds without a new checkpoint, it calls `timeout_fn()`:
  True (or no `timeout_fn`) ends the iteration, False keeps waiting.
  """
  checkpoint_path = None
  while True:
    new_checkpoint = wait_for_new_checkpoint(checkpoint_dir, checkpoint_path, timeout=timeout)
    if new_checkpoint is None:
      if not timeout_fn:
        _log.info('Timed-out waiting for a checkpoint.')
        return
      if timeout_fn():
        return
      continue
    start = time.time()
    checkpoint_path = new_checkpoint
    yield checkpoint_path
    time_to_next_eval = start + min_interval_secs - time.time()
    if time_to_next_eval > 0:
      time.sleep(time_to_next_eval)


def evaluate_once(master, checkpoint_path, logdir, num_evals=1, initial_op=None,
                  initial_op_feed_dict=None, eval_op=None, eval_op_feed_dict=None, final_op=None,
                  final_op_feed_dict=None, summary_op=_USE_DEFAULT, summary_op_feed_dict=None,
                  variables_to_restore=None, session_config=None, hooks=None):
  """Evaluates the model at `checkpoint_path`; returns the value of `final_op` (or None).

  Args:
    master: the session target ('' in process; 'local' is read as '').
    checkpoint_path: the checkpoint to restore (a prefix like `.../model.ckpt-100`).
    logdir: where summaries are written.
    num_evals: how many times to run `eval_op`; None: until OutOfRangeError.
    initial_op, initial_op_feed_dict: run after the restore and local init
      (TF-Slim 1.1 silently skipped it whenever the checkpoint loaded).
    eval_op, eval_op_feed_dict: the metric updates; a list, dict or dict view.
    final_op, final_op_feed_dict: run once at the end; its value is returned.
    summary_op, summary_op_feed_dict: default `merge_all()`; None: no summaries.
    variables_to_restore: a list or `{checkpoint name: variable}` dict; default
      all global variables. Global variables left out are initialized, with a warning.
    session_config: a `tf.compat.v1.ConfigProto`.
    hooks: `SessionRunHook`s; their `before_run`/`after_run` wrap each `eval_op` run.
  """
  evaluator = _Evaluator(
      master=master, logdir=logdir, num_evals=num_evals, initial_op=initial_op,
      initial_op_feed_dict=initial_op_feed_dict, init_fn=None, eval_op=eval_op,
      eval_op_feed_dict=eval_op_feed_dict, final_op=final_op,
      final_op_feed_dict=final_op_feed_dict, summary_op=summary_op,
      summary_op_feed_dict=summary_op_feed_dict, variables_to_restore=variables_to_restore,
      session_config=session_config, hooks=hooks)
  return evaluator.evaluate(checkpoint_path)


def evaluation_loop(master, checkpoint_dir, logdir, num_evals=1, initial_op=None,
                    initial_op_feed_dict=None, init_fn=None, eval_op=None,
                    eval_op_feed_dict=None, final_op=None, final_op_feed_dict=None,
                    summary_op=_USE_DEFAULT, summary_op_feed_dict=None,
                    variables_to_restore=None, eval_interval_secs=60,
                    max_number_of_evaluations=None, session_config=None, timeout=None,
                    timeout_fn=None, hooks=None):
  """Evaluates each new checkpoint in `checkpoint_dir` once; returns the last `final_op` value.

  Stops after `max_number_of_evaluations` evaluations, or when no new checkpoint
  appears within `timeout` seconds (and `timeout_fn`, if given, returns True).
  Evaluations start at least `eval_interval_secs` apart. `init_fn(sess)` runs
  after the restore and `initial_op`. The other arguments are `evaluate_once`'s.
  """
  if max_number_of_evaluations is not None and max_number_of_evaluations <= 0:
    raise ValueError('evaluation_loop: max_number_of_evaluations must be None or positive, '
                     f'got {max_number_of_evaluations}.')
  evaluator = _Evaluator(
      master=master, logdir=logdir, num_evals=num_evals, initial_op=initial_op,
      initial_op_feed_dict=initial_op_feed_dict, init_fn=init_fn, eval_op=eval_op,
      eval_op_feed_dict=eval_op_feed_dict, final_op=final_op,
      final_op_feed_dict=final_op_feed_dict, summary_op=summary_op,
      summary_op_feed_dict=summary_op_feed_dict, variables_to_restore=variables_to_restore,
      session_config=session_config, hooks=hooks)
  final_value = None
  num_evaluations = 0
  for checkpoint_path in checkpoints_iterator(checkpoint_dir, min_interval_secs=eval_interval_secs,
                                              timeout=timeout, timeout_fn=timeout_fn):
    try:
      final_value = evaluator.evaluate(checkpoint_path)
    except tf.errors.NotFoundError as e:
      # The trainer's Saver deleted the checkpoint between listing and restoring it.
      _log.warning('Checkpoint %s vanished before it could be evaluated: %s', checkpoint_path, e)
      continue
    num_evaluations += 1
    if max_number_of_evaluations is not None and num_evaluations >= max_number_of_evaluations:
      return final_value
  return final_value


def _as_fetch(op):
  """Session.run cannot fetch dict views (the README passes `names_to_updates.values()`)."""
  if isinstance(op, (collections.abc.KeysView, collections.abc.ValuesView)):
    return list(op)
  return op


def _first_graph(*fetches):
  for fetch in fetches:
    if isinstance(fetch, dict):
      found = _first_graph(*fetch.values())
    elif isinstance(fetch, (list, tuple)):
      found = _first_graph(*fetch)
    else:
      found = getattr(fetch, 'graph', None)
    if found is not None:
      return found
  return None


def _checkpoint_step(checkpoint_path):
  """The global step saved in a checkpoint, or the number its name ends with, or None."""
  try:
    return int(tf.train.load_variable(checkpoint_path, 'global_step'))
  except (tf.errors.NotFoundError, ValueError):
    match = re.search(r'-(\d+)$', checkpoint_path)
    return int(match.group(1)) if match else None


class _Evaluator:
  """Builds the evaluation ops once; `evaluate(checkpoint)` runs one evaluation."""

  def __init__(self, *, master, logdir, num_evals, initial_op, initial_op_feed_dict, init_fn,
               eval_op, eval_op_feed_dict, final_op, final_op_feed_dict, summary_op,
               summary_op_feed_dict, variables_to_restore, session_config, hooks):
    if num_evals is not None and num_evals < 0:
      raise ValueError(f'evaluation: num_evals must be None or >= 0, got {num_evals}.')
    self.master = '' if master == 'local' else master
    self.logdir = logdir
    self.num_evals = num_evals
    self.initial_op, self.initial_op_feed_dict = _as_fetch(initial_op), initial_op_feed_dict
    self.init_fn = init_fn
    self.eval_op, self.eval_op_feed_dict = _as_fetch(eval_op), eval_op_feed_dict
    self.final_op, self.final_op_feed_dict = _as_fetch(final_op), final_op_feed_dict
    self.summary_op_feed_dict = summary_op_feed_dict
    self.session_config = session_config
    self.hooks = list(hooks or [])
    self.graph = (_first_graph(self.eval_op, self.final_op, self.initial_op,
                               None if summary_op is _USE_DEFAULT else summary_op)
                  or tf.compat.v1.get_default_graph())
    with self.graph.as_default():
      self.summary_op = tf.compat.v1.summary.merge_all() if summary_op is _USE_DEFAULT \
          else summary_op
      self.global_step = tf.compat.v1.train.get_global_step()
      eval_step = get_or_create_eval_step()
      # Counted only when eval_op succeeds: the run that hits the end of the input doesn't count.
      after = tf.nest.flatten(self.eval_op) if self.eval_op is not None else []
      with tf.control_dependencies(after):
        self.update_eval_step = eval_step.assign_add(1)
      tf.compat.v1.add_to_collection(_EVAL_STEP_UPDATE, self.update_eval_step)
      self.saver, self.init_unrestored = self._make_saver(variables_to_restore)
      self.local_init_op = tf.group(tf.compat.v1.local_variables_initializer(),
                                    tf.compat.v1.tables_initializer())
      self.writer = (tf.compat.v1.summary.FileWriterCache.get(logdir)
                     if logdir is not None and self.summary_op is not None else None)

  def _make_saver(self, variables_to_restore):
    if variables_to_restore is None:
      return tf.compat.v1.train.Saver(allow_empty=True), None
    restored = (variables_to_restore.values() if isinstance(variables_to_restore, dict)
                else variables_to_restore)
    restored_names = {v.op.name for v in restored}
    left_out = [v for v in tf.compat.v1.global_variables() if v.op.name not in restored_names]
    init_op = None
    if left_out:
      _log.warning('Evaluation initializes variables it does not restore: %s',
                   ', '.join(v.op.name for v in left_out))
      init_op = tf.compat.v1.variables_initializer(left_out)
    return tf.compat.v1.train.Saver(variables_to_restore), init_op

  def evaluate(self, checkpoint_path):
    _log.info('Starting evaluation of %s', checkpoint_path)
    start = time.time()
    with self.graph.as_default():
      for hook in self.hooks:  # per session, as MonitoredSession calls it
        hook.begin()
    with tf.compat.v1.Session(self.master, graph=self.graph, config=self.session_config) as sess:
      if self.init_unrestored is not None:
        sess.run(self.init_unrestored)
      self.saver.restore(sess, checkpoint_path)
      sess.run(self.local_init_op)
      if self.initial_op is not None:
        sess.run(self.initial_op, self.initial_op_feed_dict)
      if self.init_fn is not None:
        self.init_fn(sess)
      coord = tf.compat.v1.train.Coordinator()
      for hook in self.hooks:
        hook.after_create_session(sess, coord)
      with queues.QueueRunners(sess, coord=coord):
        self._run_evals(sess)
        final_value = None
        if self.final_op is not None:
          final_value = sess.run(self.final_op, self.final_op_feed_dict)
        self._write_summary(sess, checkpoint_path)
        for hook in self.hooks:
          hook.end(sess)
    _log.info('Finished evaluation of %s in %.1f s', checkpoint_path, time.time() - start)
    return final_value

  def _run_evals(self, sess):
    if self.eval_op is None:
      return
    done = 0
    while self.num_evals is None or done < self.num_evals:
      try:
        stop = self._run_with_hooks(sess, [self.eval_op, self.update_eval_step],
                                    self.eval_op_feed_dict)
      except tf.errors.OutOfRangeError:
        if self.num_evals is not None:
          _log.warning('Input ended after %d of num_evals=%d evaluations.', done, self.num_evals)
        break
      done += 1
      if self.num_evals is not None:
        _log.info('Evaluation [%d/%d]', done, self.num_evals)
      if stop:
        break

  def _run_with_hooks(self, sess, fetches, feed_dict):
    """One `sess.run` with each hook's extra fetches and feeds; True if a hook asked to stop."""
    if not self.hooks:
      sess.run(fetches, feed_dict)
      return False
    context = tf.compat.v1.train.SessionRunContext(
        original_args=tf.compat.v1.train.SessionRunArgs(fetches, feed_dict), session=sess)
    feeds = dict(feed_dict or {})
    hook_fetches = []
    options = tf.compat.v1.RunOptions()
    for hook in self.hooks:
      args = hook.before_run(context)
      hook_fetches.append(args.fetches if args is not None and args.fetches is not None else [])
      if args is not None and args.feed_dict:
        for key, value in args.feed_dict.items():
          if key in feeds:
            raise RuntimeError(f'evaluation: hook {type(hook).__name__} feeds {key}, which is '
                               'already fed.')
          feeds[key] = value
      if args is not None and args.options is not None:
        options.trace_level = max(options.trace_level, args.options.trace_level)
    run_metadata = tf.compat.v1.RunMetadata()
    results = sess.run({'caller': fetches, 'hooks': hook_fetches}, feed_dict=feeds or None,
                       options=options, run_metadata=run_metadata)
    for hook, result in zip(self.hooks, results['hooks']):
      hook.after_run(context, tf.compat.v1.train.SessionRunValues(
          results=result, options=options, run_metadata=run_metadata))
    return context.stop_requested

  def _write_summary(self, sess, checkpoint_path):
    if self.writer is None:
      return
    if self.global_step is not None:
      step = int(sess.run(self.global_step))
    else:
      step = _checkpoint_step(checkpoint_path)
    self.writer.add_summary(sess.run(self.summary_op, self.summary_op_feed_dict), step)
    self.writer.flush()
