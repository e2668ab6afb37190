"""Start a graph's queue runners for the length of a `with` block, and stop them safely.

    with slim.queues.QueueRunners(sess):
      images_value = sess.run(images)   # batches from tf.compat.v1.train.batch

On exit, also when the block raises, the runners are told to stop, their
queues are closed (pending enqueues cancelled) and their threads joined within
`stop_grace_period_secs`. An exception raised in a runner thread is re-raised in
the thread that leaves the block, with the block's own exception (often the
`OutOfRangeError` the closed queue caused) as its context.

Unlike TF-Slim's version, contexts may be nested (an inner context on the same
session finds the runners already running and leaves them to the outer one)
and one object may be entered again after it exits; note that the queues of a
session stay closed after an exit, so a second run needs a new session.
"""
import logging

import tensorflow as tf

__all__ = ['NestedQueueRunnerError', 'QueueRunners', 'QueueRunnersTimeoutError']

_log = logging.getLogger(__name__)


class NestedQueueRunnerError(Exception):
  """Kept for code that catches it: TF-Slim raised it on nesting; slimdata allows nesting."""


class QueueRunnersTimeoutError(RuntimeError):
  """Runner threads were still running after the grace period; the session was closed."""


class QueueRunners:
  """Context manager running the QUEUE_RUNNERS of `session`'s graph.

  Args:
    session: the `tf.compat.v1.Session` the runners use.
    coord: an optional `tf.compat.v1.train.Coordinator`; a new one per entry if None.
    stop_grace_period_secs: how long to wait for the threads after stop was requested.
      Threads still running then are cut off by closing the session, which
      cancels their pending steps, and `QueueRunnersTimeoutError` is raised.
    queue_runners: the runners to start; by default the graph's QUEUE_RUNNERS collection.
  """

  def __init__(self, session, coord=None, stop_grace_period_secs=30, queue_runners=None):
    if session is None:
      raise ValueError('QueueRunners: `session` must be a tf.compat.v1.Session, got None.')
    if stop_grace_period_secs < 0:
      raise ValueError('QueueRunners: stop_grace_period_secs must be >= 0, got '
                       f'{stop_grace_period_secs}.')
    self._session = session
    self._given_coord = coord
    self._grace = stop_grace_period_secs
    self._queue_runners = queue_runners
    self.coord = None
    self.threads = None

  def __enter__(self):
    if self.threads is not None:
      raise RuntimeError('QueueRunners: this context is already active; create a second '
                         'QueueRunners object to nest contexts.')
    # A cancelled enqueue means the queue was closed under it (a stop, not a failure):
    # it happens when a session's closed queues get their runners started again.
    self.coord = self._given_coord or tf.compat.v1.train.Coordinator(
        clean_stop_exception_types=(tf.errors.OutOfRangeError, tf.errors.CancelledError))
    runners = self._queue_runners
    if runners is None:
      runners = self._session.graph.get_collection(tf.compat.v1.GraphKeys.QUEUE_RUNNERS)
    self.threads = []
    try:
      for runner in runners:
        # A runner already running in this session (an outer context) returns no threads.
        self.threads.extend(runner.create_threads(self._session, coord=self.coord, daemon=True,
                                                  start=True))
    except BaseException:
      self._stop(body_failed=True)
      raise
    _log.debug('QueueRunners: started %d threads', len(self.threads))
    return self

  def __exit__(self, exc_type, exc_value, traceback):
    interrupted = exc_type is not None and not issubclass(exc_type, Exception)
    try:
      self._stop(body_failed=exc_type is not None)
    except Exception:  # pylint: disable=broad-except
      if not interrupted:
        raise
      # A KeyboardInterrupt or SystemExit must not be replaced by an input error.
      _log.exception('QueueRunners: input thread error while stopping after %s',
                     exc_type.__name__)
    return False

  def _stop(self, body_failed):
    """Stops and joins this context's threads; raises a runner's exception if there was one."""
    coord, threads = self.coord, self.threads
    self.coord, self.threads = None, None
    if not threads:
      return
    coord.request_stop()
    try:
      coord.join(threads, stop_grace_period_secs=self._grace, ignore_live_threads=True)
    except BaseException:
      self._cut_off(threads)
      raise
    stragglers = self._cut_off(threads)
    if stragglers and not body_failed:
      raise QueueRunnersTimeoutError(
          f'queue runner threads {", ".join(stragglers)} did not stop within '
          f'stop_grace_period_secs={self._grace}; the session was closed to cancel them. Make '
          'the input ops finish faster or raise stop_grace_period_secs.')

  def _cut_off(self, threads):
    """Closes the session if threads outlived the grace period, which cancels their steps."""
    stragglers = [t.name for t in threads if t.is_alive()]
    if stragglers:
      _log.error('QueueRunners: threads still running %ss after stop; closing the session to '
                 'cancel them: %s', self._grace, ', '.join(stragglers))
      self._session.close()
      for thread in threads:
        thread.join(timeout=self._grace)
    return stragglers
