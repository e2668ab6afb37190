"""TF-Slim's training loop: build a `train_op`, then run it with checkpoints and summaries.

    train_op = slim.learning.create_train_op(total_loss, optimizer)
    final_loss = slim.learning.train(train_op, logdir, number_of_steps=1000,
                                     save_interval_secs=600, save_summaries_secs=300)

`train` writes `model.ckpt-<global step>` checkpoints and TensorBoard event
files into `logdir`, resumes from the newest checkpoint there, runs the graph's
queue runners (under `queues.QueueRunners`) and stops at `number_of_steps`.
TF-Slim built it on `tf.train.Supervisor`; this is the same contract on a plain
Session, Saver and FileWriter, with saving and summaries done between steps in
the training thread (no background threads that could outlive it).
"""
import json
import logging
import os
import time

import tensorflow as tf

from slimdata import queues

__all__ = [
    'add_gradients_summaries', 'clip_gradient_norms', 'clip_gradient_norms_fn',
    'create_train_op', 'multiply_gradients', 'train', 'train_step',
]

_log = logging.getLogger(__name__)


class _Default:
  """Marks an argument left to its default (TF-Slim's `_USE_DEFAULT`)."""

  def __repr__(self):
    return '<default>'


_USE_DEFAULT = _Default()
_USE_GLOBAL_STEP = _Default()

# How long a non-chief worker waits between checks that the chief initialized the model.
_RECOVERY_WAIT_SECS = 5
# How long the sync replicas token runner gets to stop before the session is closed under it.
_SYNC_TOKEN_GRACE_SECS = 1


def _var_name(key):
  name = key if isinstance(key, str) else key.op.name
  return name[:-2] if name.endswith(':0') else name


def clip_gradient_norms(gradients_to_variables, max_norm):
  """Clips each gradient (IndexedSlices: its values) to L2 norm at most `max_norm`."""
  clipped = []
  for grad, var in gradients_to_variables:
    if grad is not None:
      if isinstance(grad, tf.IndexedSlices):
        grad = tf.IndexedSlices(tf.clip_by_norm(grad.values, max_norm), grad.indices,
                                grad.dense_shape)
      else:
        grad = tf.clip_by_norm(grad, max_norm)
    clipped.append((grad, var))
  return clipped


def clip_gradient_norms_fn(max_norm):
  """A `transform_grads_fn` that clips gradient norms to `max_norm`."""
  return lambda grads_and_vars: clip_gradient_norms(grads_and_vars, max_norm)


def multiply_gradients(grads_and_vars, gradient_multipliers):
  """Scales the gradients of the variables named in `gradient_multipliers`.

  Args:
    grads_and_vars: list of (gradient, variable) pairs.
    gradient_multipliers: dict from variables or variable op names
      ('conv0/weights') to a number or scalar tensor.
  """
  if not isinstance(grads_and_vars, list):
    raise ValueError('multiply_gradients: `grads_and_vars` must be a list.')
  if not gradient_multipliers:
    raise ValueError('multiply_gradients: `gradient_multipliers` is empty.')
  if not isinstance(gradient_multipliers, dict):
    raise ValueError('multiply_gradients: `gradient_multipliers` must be a dict.')
  # Keyed by name: graph variables are not reliably hashable on TF 2.
  by_name = {_var_name(key): value for key, value in gradient_multipliers.items()}
  unused = set(by_name)
  multiplied = []
  for grad, var in grads_and_vars:
    name = _var_name(var)
    if name in by_name:
      unused.discard(name)
      if grad is None:
        raise ValueError(f'multiply_gradients: variable {name} has no gradient to multiply.')
      multiplier = tf.cast(by_name[name], grad.dtype)
      if isinstance(grad, tf.IndexedSlices):
        grad = tf.IndexedSlices(grad.values * multiplier, grad.indices, grad.dense_shape)
      else:
        grad = grad * multiplier
    multiplied.append((grad, var))
  if unused:
    _log.warning('gradient_multipliers name variables that are not trained: %s',
                 ', '.join(sorted(unused)))
  return multiplied


def add_gradients_summaries(grads_and_vars):
  """Adds a histogram and a norm summary per gradient; returns the summary ops."""
  summaries = []
  for grad, var in grads_and_vars:
    if grad is None:
      _log.info('Var %s has no gradient', var.op.name)
      continue
    values = grad.values if isinstance(grad, tf.IndexedSlices) else grad
    summaries.append(tf.compat.v1.summary.histogram(var.op.name + '/gradient', values))
    summaries.append(tf.compat.v1.summary.scalar(var.op.name + '/gradient_norm',
                                                 tf.linalg.global_norm([values])))
  return summaries


def _unique(items):
  seen, result = set(), []
  for item in items:
    if id(item) not in seen:
      seen.add(id(item))
      result.append(item)
  return result


def create_train_op(total_loss, optimizer, global_step=_USE_GLOBAL_STEP, update_ops=None,
                    variables_to_train=None, clip_gradient_norm=0, summarize_gradients=False,
                    gate_gradients=tf.compat.v1.train.Optimizer.GATE_OP,
                    aggregation_method=None, colocate_gradients_with_ops=False,
                    gradient_multipliers=None, check_numerics=True, transform_grads_fn=None):
  """A tensor that, when run, applies one gradient step and returns `total_loss`.

  Args:
    total_loss: the scalar loss tensor.
    optimizer: a `tf.compat.v1.train.Optimizer`.
    global_step: incremented by each step; by default the graph's global step
      (created if missing). None: no step counting.
    update_ops: ops run before each step; default the UPDATE_OPS collection
      (batch-norm moving averages). A warning is logged if it leaves some out.
    variables_to_train: default all trainable variables.
    clip_gradient_norm: if > 0, clip each gradient to this norm.
    summarize_gradients: add histogram and norm summaries of each gradient.
    gate_gradients, aggregation_method, colocate_gradients_with_ops: passed to
      `optimizer.compute_gradients`.
    gradient_multipliers: dict from variables or their names to gradient scales.
    check_numerics: fail the step when the loss is inf or NaN.
    transform_grads_fn: a function on the (gradient, variable) list, applied
      after the multipliers and clipping.
  """
  if not hasattr(optimizer, 'compute_gradients') or not hasattr(optimizer, 'apply_gradients'):
    raise TypeError('create_train_op: `optimizer` must be a tf.compat.v1.train.Optimizer '
                    f'(e.g. GradientDescentOptimizer), got {type(optimizer).__name__}.')
  if global_step is _USE_GLOBAL_STEP:
    global_step = tf.compat.v1.train.get_or_create_global_step()
  graph_update_ops = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
  update_ops = graph_update_ops if update_ops is None else list(update_ops)
  given = {id(op) for op in update_ops}
  if any(id(op) not in given for op in graph_update_ops):
    _log.warning('update_ops in create_train_op does not contain all the update_ops in '
                 'GraphKeys.UPDATE_OPS')
  update_ops = _unique(update_ops)
  if update_ops:
    with tf.control_dependencies(update_ops):
      barrier = tf.no_op(name='update_barrier')
    with tf.control_dependencies([barrier]):
      total_loss = tf.identity(total_loss)

  if variables_to_train is None:
    variables_to_train = tf.compat.v1.trainable_variables()
  else:
    trainable = {_var_name(v) for v in tf.compat.v1.trainable_variables()}
    frozen = [_var_name(v) for v in variables_to_train
              if not getattr(v, 'trainable', False) and _var_name(v) not in trainable]
    if frozen:
      raise ValueError(f'create_train_op: variables_to_train holds non-trainable variables: '
                       f'{", ".join(frozen)}.')
  if not variables_to_train:
    raise ValueError('create_train_op: there are no variables to train; build the model first '
                     'or pass variables_to_train.')

  grads = optimizer.compute_gradients(total_loss, list(variables_to_train),
                                      gate_gradients=gate_gradients,
                                      aggregation_method=aggregation_method,
                                      colocate_gradients_with_ops=colocate_gradients_with_ops)
  if gradient_multipliers:
    with tf.name_scope('multiply_grads'):
      grads = multiply_gradients(grads, gradient_multipliers)
  if clip_gradient_norm > 0:
    with tf.name_scope('clip_grads'):
      grads = clip_gradient_norms(grads, clip_gradient_norm)
  if transform_grads_fn:
    grads = transform_grads_fn(grads)
  if summarize_gradients:
    with tf.name_scope('summarize_grads'):
      add_gradients_summaries(grads)
  grad_updates = optimizer.apply_gradients(grads, global_step=global_step)

  with tf.name_scope('train_op'):
    if check_numerics:
      total_loss = tf.debugging.check_numerics(total_loss, 'LossTensor is inf or nan')
    with tf.control_dependencies([grad_updates]):
      train_op = tf.identity(total_loss)
  train_ops = tf.compat.v1.get_collection_ref(tf.compat.v1.GraphKeys.TRAIN_OP)
  if all(op is not train_op for op in train_ops):
    train_ops.append(train_op)
  return train_op


def train_step(sess, train_op, global_step, train_step_kwargs):
  """Runs one gradient step; returns `(total_loss, should_stop)`.

  `train_step_kwargs` may hold the scalar boolean tensors 'should_stop',
  'should_log' and 'should_trace' (with 'logdir' and optionally
  'summary_writer'), as `train` builds them.
  """
  start = time.time()
  options = run_metadata = None
  if 'should_trace' in train_step_kwargs:
    if 'logdir' not in train_step_kwargs:
      raise ValueError('train_step: logdir must be present in train_step_kwargs when '
                       'should_trace is present')
    if sess.run(train_step_kwargs['should_trace']):
      options = tf.compat.v1.RunOptions(trace_level=tf.compat.v1.RunOptions.FULL_TRACE)
      run_metadata = tf.compat.v1.RunMetadata()
  total_loss, np_global_step = sess.run([train_op, global_step], options=options,
                                        run_metadata=run_metadata)
  elapsed = time.time() - start
  if run_metadata is not None:
    # The step fetched with train_op may be read before or after its increment: read it
    # again so trace names (and TensorBoard's run metadata tags) are unique.
    _write_trace(run_metadata, int(sess.run(global_step)), train_step_kwargs)
  if 'should_log' in train_step_kwargs and sess.run(train_step_kwargs['should_log']):
    _log.info('global step %d: loss = %.4f (%.3f sec/step)', np_global_step, total_loss, elapsed)
  should_stop = False
  if 'should_stop' in train_step_kwargs:
    should_stop = bool(sess.run(train_step_kwargs['should_stop']))
  return total_loss, should_stop


def _write_trace(run_metadata, step, train_step_kwargs):
  """Writes the step's timings as a Chrome trace (chrome://tracing) and to TensorBoard."""
  events = []
  for pid, device in enumerate(run_metadata.step_stats.dev_stats):
    events.append({'name': 'process_name', 'ph': 'M', 'pid': pid,
                   'args': {'name': device.device}})
    for node in device.node_stats:
      events.append({'name': node.node_name, 'ph': 'X', 'pid': pid, 'tid': node.thread_id,
                     'ts': node.all_start_micros, 'dur': max(node.all_end_rel_micros, 1),
                     'args': {'op': node.timeline_label}})
  path = os.path.join(train_step_kwargs['logdir'], f'tf_trace-{step}.json')
  _log.info('Writing trace to %s', path)
  with tf.io.gfile.GFile(path, 'w') as f:
    f.write(json.dumps({'traceEvents': events}))
  writer = train_step_kwargs.get('summary_writer')
  if writer is not None:
    writer.add_run_metadata(run_metadata, f'run_metadata-{step}')


def train(train_op, logdir, train_step_fn=train_step, train_step_kwargs=_USE_DEFAULT,
          log_every_n_steps=1, graph=None, master='', is_chief=True, global_step=None,
          number_of_steps=None, init_op=_USE_DEFAULT, init_feed_dict=None,
          local_init_op=_USE_DEFAULT, init_fn=None, ready_op=_USE_DEFAULT,
          summary_op=_USE_DEFAULT, save_summaries_secs=600, summary_writer=_USE_DEFAULT,
          startup_delay_steps=0, saver=None, save_interval_secs=600, sync_optimizer=None,
          session_config=None, session_wrapper=None, trace_every_n_steps=None,
          ignore_live_threads=False, stop_grace_period_secs=30):
  """Runs `train_op` until `number_of_steps` (global step) or the input ends; returns the loss.

  Args:
    train_op: from `create_train_op`.
    logdir: where checkpoints (`model.ckpt-<step>`) and event files go; training
      resumes from its newest checkpoint. None: nothing is written.
    train_step_fn: `fn(sess, train_op, global_step, train_step_kwargs)` returning
      `(loss, should_stop)`; default `train_step`.
    train_step_kwargs: passed to `train_step_fn`; by default 'should_stop' and
      'should_log' tensors built from `number_of_steps` and `log_every_n_steps`.
    log_every_n_steps: log the loss every this many global steps (0: never).
    graph: default the graph of `train_op`.
    master, session_config: the session's target and ConfigProto.
    is_chief: only the chief initializes, saves and writes summaries; other
      workers wait until the model is initialized.
    global_step: default the graph's global step (created if missing).
    number_of_steps: stop when the global step reaches it. If a resumed run is
      already there, no step runs (TF-Slim ran one more) and None is returned.
    init_op, init_feed_dict: run when there is no checkpoint to resume from;
      default `global_variables_initializer()`.
    local_init_op: run after init or restore; default local variables and
      tables initializers (so `num_epochs` input pipelines work).
    init_fn: `fn(sess)` called after `init_op` on a fresh start (not on resume),
      e.g. `slim.assign_from_checkpoint_fn(...)` for fine-tuning.
    ready_op: a tensor listing uninitialized variables; default
      `report_uninitialized_variables()`. None: no check.
    summary_op: default `merge_all()`; written every `save_summaries_secs`
      (0: never), first after the first step, and after the last one. It runs
      in its own `session.run`, as under TF-Slim's Supervisor, so with a queue
      input each summary takes a batch that training does not see.
    summary_writer: default a FileWriter on `logdir`; None: no summaries.
    startup_delay_steps: a non-chief worker waits for the global step to reach it.
    saver: default `tf.compat.v1.train.Saver()`.
    save_interval_secs: checkpoint every this many seconds (0: only at the end).
    sync_optimizer: a `SyncReplicasOptimizer` or a list of them.
    session_wrapper: `fn(sess)` returning the session object to train with.
    trace_every_n_steps: write a Chrome trace and run metadata every n steps.
    ignore_live_threads: log, instead of raising, when input threads outlive
      `stop_grace_period_secs`.
    stop_grace_period_secs: how long to wait for input threads at the end.

  Returns:
    The loss of the last step run, or None if no step ran.
  """
  if train_op is None:
    raise ValueError('train: train_op cannot be None.')
  if logdir is None:
    if summary_op is not _USE_DEFAULT:
      raise ValueError('train: cannot provide summary_op because logdir=None')
    if saver is not None:
      raise ValueError('train: cannot provide saver because logdir=None')
    if trace_every_n_steps is not None:
      raise ValueError('train: cannot provide trace_every_n_steps because logdir=None')
  if sync_optimizer is not None and not isinstance(sync_optimizer, (list, tuple)):
    sync_optimizer = [sync_optimizer]
  if sync_optimizer is not None:
    if startup_delay_steps > 0:
      raise ValueError('train: startup_delay_steps must be zero when sync_optimizer is supplied.')
    for opt in sync_optimizer:
      if not isinstance(opt, tf.compat.v1.train.SyncReplicasOptimizer):
        raise ValueError('train: `sync_optimizer` must be a tf.compat.v1.train.'
                         f'SyncReplicasOptimizer, got {type(opt).__name__}.')
  if number_of_steps is not None and number_of_steps <= 0:
    raise ValueError('train: `number_of_steps` must be either None or a positive number, got '
                     f'{number_of_steps}.')
  if log_every_n_steps is None or log_every_n_steps < 0:
    raise ValueError(f'train: log_every_n_steps must be >= 0, got {log_every_n_steps}.')

  graph = graph or train_op.graph
  with graph.as_default():
    if global_step is None:
      global_step = tf.compat.v1.train.get_or_create_global_step()
    if saver is None and logdir is not None:
      saver = tf.compat.v1.train.Saver()
    with tf.name_scope('init_ops'):
      if init_op is _USE_DEFAULT:
        init_op = tf.compat.v1.global_variables_initializer()
      if ready_op is _USE_DEFAULT:
        ready_op = tf.compat.v1.report_uninitialized_variables()
      if local_init_op is _USE_DEFAULT:
        local_init_op = tf.group(tf.compat.v1.local_variables_initializer(),
                                 tf.compat.v1.tables_initializer())
      chief_queue_runners, init_tokens_op = [], None
      if sync_optimizer is not None:
        deps = [local_init_op] if local_init_op is not None else []
        with tf.control_dependencies(deps):
          if is_chief:
            local_init_op = tf.group(*[opt.chief_init_op for opt in sync_optimizer])
          else:
            local_init_op = tf.group(*[opt.local_step_init_op for opt in sync_optimizer])
        if is_chief:
          init_tokens_op = [opt.get_init_tokens_op() for opt in sync_optimizer]
          chief_queue_runners = [opt.get_chief_queue_runner() for opt in sync_optimizer]
    if summary_op is _USE_DEFAULT:
      summary_op = tf.compat.v1.summary.merge_all()
    if train_step_kwargs is _USE_DEFAULT:
      with tf.name_scope('train_step'):
        train_step_kwargs = {}
        if number_of_steps:
          train_step_kwargs['should_stop'] = tf.greater_equal(global_step, number_of_steps)
        else:
          train_step_kwargs['should_stop'] = tf.constant(False)
        if log_every_n_steps > 0:
          train_step_kwargs['should_log'] = tf.equal(
              tf.math.floormod(global_step, log_every_n_steps), 0)
        if is_chief and trace_every_n_steps is not None:
          train_step_kwargs['should_trace'] = tf.equal(
              tf.math.floormod(global_step, trace_every_n_steps), 0)
          train_step_kwargs['logdir'] = logdir

  own_writer = False
  if summary_writer is _USE_DEFAULT:
    summary_writer = None
    if logdir is not None and is_chief:
      summary_writer = tf.compat.v1.summary.FileWriter(logdir, graph)
      own_writer = True
  if summary_writer is not None:
    train_step_kwargs['summary_writer'] = summary_writer
  if logdir is not None and is_chief:
    tf.io.gfile.makedirs(logdir)
    tf.io.write_graph(graph.as_graph_def(add_shapes=True), logdir, 'graph.pbtxt')

  loop = _TrainLoop(
      graph=graph, logdir=logdir, is_chief=is_chief, global_step=global_step, saver=saver,
      summary_op=summary_op, summary_writer=summary_writer,
      save_summaries_secs=save_summaries_secs, save_interval_secs=save_interval_secs,
      stop_grace_period_secs=stop_grace_period_secs, ignore_live_threads=ignore_live_threads)
  try:
    while True:
      try:
        return loop.run(
            master=master, session_config=session_config, init_op=init_op,
            init_feed_dict=init_feed_dict, init_fn=init_fn, local_init_op=local_init_op,
            ready_op=ready_op, session_wrapper=session_wrapper,
            startup_delay_steps=startup_delay_steps, number_of_steps=number_of_steps,
            chief_queue_runners=chief_queue_runners, init_tokens_op=init_tokens_op,
            train_step_fn=train_step_fn, train_op=train_op,
            train_step_kwargs=train_step_kwargs)
      except tf.errors.AbortedError:
        # A parameter server restarted: start again from the last checkpoint, as TF-Slim did.
        _log.info('Retrying training!')
  finally:
    if summary_writer is not None:
      if own_writer:
        summary_writer.close()
      else:
        summary_writer.flush()


class _TrainLoop:
  """One training session: prepare (restore or init), step, save, summarize."""

  def __init__(self, *, graph, logdir, is_chief, global_step, saver, summary_op,
               summary_writer, save_summaries_secs, save_interval_secs, stop_grace_period_secs,
               ignore_live_threads):
    self.graph = graph
    self.logdir = logdir
    self.is_chief = is_chief
    self.global_step = global_step
    self.saver = saver
    self.summary_op = summary_op
    self.summary_writer = summary_writer
    self.save_summaries_secs = save_summaries_secs
    self.save_interval_secs = save_interval_secs
    self.grace = stop_grace_period_secs
    self.ignore_live_threads = ignore_live_threads
    self.save_path = os.path.join(logdir, 'model.ckpt') if logdir is not None else None

  def run(self, *, master, session_config, init_op, init_feed_dict, init_fn, local_init_op,
          ready_op, session_wrapper, startup_delay_steps, number_of_steps, chief_queue_runners,
          init_tokens_op, train_step_fn, train_op, train_step_kwargs):
    """Trains in a fresh session; returns the last loss."""
    raw_sess = tf.compat.v1.Session(master, graph=self.graph, config=session_config)
    with raw_sess:
      self._prepare(raw_sess, init_op, init_feed_dict, init_fn, local_init_op, ready_op)
      _log.info('Starting Session.')
      sess = raw_sess
      if session_wrapper is not None:
        _log.info('Wrapping session with wrapper function: %s', session_wrapper)
        sess = session_wrapper(raw_sess)
      if not self.is_chief and startup_delay_steps > 0:
        self._wait_for_step(raw_sess, min(startup_delay_steps, number_of_steps or float('inf')))
      # SyncReplicasOptimizer's token runner waits for gradients that stop coming when
      # training ends: only closing the session frees it. So its context is the outer one,
      # stopped after the input runners, with a short grace period.
      total_loss = None
      try:
        with queues.QueueRunners(raw_sess, queue_runners=chief_queue_runners,
                                 stop_grace_period_secs=_SYNC_TOKEN_GRACE_SECS):
          if init_tokens_op:
            raw_sess.run(init_tokens_op)
          total_loss = self._run_with_input(sess, raw_sess, number_of_steps, train_step_fn,
                                            train_op, train_step_kwargs)
      except queues.QueueRunnersTimeoutError:
        _log.info('Stopped the sync replicas token runner by closing the session.')
    return total_loss

  def _run_with_input(self, sess, raw_sess, number_of_steps, train_step_fn, train_op,
                      train_step_kwargs):
    total_loss = None
    try:
      with queues.QueueRunners(raw_sess, stop_grace_period_secs=self.grace):
        _log.info('Starting Queues.')
        total_loss = self._loop(sess, raw_sess, number_of_steps, train_step_fn, train_op,
                                train_step_kwargs)
    except queues.QueueRunnersTimeoutError:
      if not self.ignore_live_threads:
        raise
      _log.info('Ignoring input threads that outlived the grace period.')
    return total_loss

  def _prepare(self, sess, init_op, init_feed_dict, init_fn, local_init_op, ready_op):
    """Restores the newest checkpoint in logdir or initializes; checks the model is ready."""
    if not self.is_chief:
      self._wait_until_ready(sess, local_init_op, ready_op)
      return
    checkpoint = tf.train.latest_checkpoint(self.logdir) if self.logdir is not None else None
    if checkpoint:
      _log.info('Restoring parameters from %s', checkpoint)
      self.saver.restore(sess, checkpoint)
    else:
      if init_op is not None:
        sess.run(init_op, feed_dict=init_feed_dict)
      if init_fn is not None:
        init_fn(sess)
    if local_init_op is not None:
      sess.run(local_init_op)
    missing = self._uninitialized(sess, ready_op)
    if missing:
      raise RuntimeError(
          f'train: variables still uninitialized after '
          f'{"restoring " + checkpoint if checkpoint else "init_op and init_fn"}: '
          f'{", ".join(missing)}. Initialize them in init_op or init_fn, or restore them.')

  def _uninitialized(self, sess, ready_op):
    if ready_op is None:
      return []
    names = sess.run(ready_op)
    return [n.decode() if isinstance(n, bytes) else str(n) for n in names.reshape([-1])]

  def _wait_until_ready(self, sess, local_init_op, ready_op):
    """A non-chief worker waits for the chief to initialize the shared variables."""
    while True:
      try:
        missing = self._uninitialized(sess, ready_op)
      except tf.errors.FailedPreconditionError:
        missing = ['(not yet readable)']
      if not missing:
        break
      _log.info('Waiting for the chief to initialize: %s', ', '.join(missing[:5]))
      time.sleep(_RECOVERY_WAIT_SECS)
    if local_init_op is not None:
      sess.run(local_init_op)

  def _wait_for_step(self, sess, step):
    while tf.compat.v1.train.global_step(sess, self.global_step) < step:
      time.sleep(1.0)

  def _loop(self, sess, raw_sess, number_of_steps, train_step_fn, train_op, train_step_kwargs):
    step = int(tf.compat.v1.train.global_step(raw_sess, self.global_step))
    if number_of_steps and step >= number_of_steps:
      _log.info('Global step %d has reached number_of_steps=%d: nothing to train.', step,
                number_of_steps)
      return None
    total_loss = None
    now = time.time()
    last_save = now
    last_summary, last_summary_step = None, step
    try:
      while True:
        total_loss, should_stop = train_step_fn(sess, train_op, self.global_step,
                                                train_step_kwargs)
        now = time.time()
        if self.is_chief and self.save_interval_secs and now - last_save >= self.save_interval_secs:
          self._save(raw_sess)
          last_save = now
        if (self.save_summaries_secs and
            (last_summary is None or now - last_summary >= self.save_summaries_secs)):
          last_summary_step = self._summarize(raw_sess, last_summary, last_summary_step, now)
          last_summary = now
        if should_stop:
          _log.info('Stopping Training.')
          break
    except tf.errors.OutOfRangeError as e:
      _log.info('Caught OutOfRangeError. Stopping Training. %s', e)
    if self.is_chief and self.logdir is not None:
      _log.info('Finished training! Saving model to disk.')
      if self.save_summaries_secs:
        self._summarize(raw_sess, last_summary, last_summary_step, time.time())
      self._save(raw_sess)
    return total_loss

  def _save(self, sess):
    if self.saver is not None and self.save_path is not None:
      self.saver.save(sess, self.save_path, global_step=self.global_step)

  def _summarize(self, sess, last_time, last_step, now):
    """Writes summary_op and global_step/sec at the current step; returns the step."""
    if not self.is_chief or self.summary_writer is None:
      return last_step
    step = int(tf.compat.v1.train.global_step(sess, self.global_step))
    if self.summary_op is not None:
      try:
        self.summary_writer.add_summary(sess.run(self.summary_op), step)
      except tf.errors.OutOfRangeError:
        _log.info('Input exhausted: no summary at step %d.', step)
    if last_time is not None and now > last_time:
      rate = tf.compat.v1.Summary(value=[tf.compat.v1.Summary.Value(
          tag='global_step/sec', simple_value=(step - last_step) / (now - last_time))])
      self.summary_writer.add_summary(rate, step)
    self.summary_writer.flush()
    return step
