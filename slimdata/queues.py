"""Start a graph's queue runners for the length of a `with` block, and stop them safely.

    with slim.queues.QueueRunners(sess):
      images_value = sess.run(images)   # batches from tf.compat.v1.train.batch

On exit, also when the block raises, the runners are told to stop, their
queues are closed (pending enqueues cancelled) and their threads joined within
`stop_grace_period_secs`. An exception raised in a runner thread is re-raised in
the thread that leaves the block, with the block's own exception (often the
`OutOfRangeError` the closed queue caused) as its context.

Ctrl-C while the main thread waits in `session.run` for input: Python runs its
SIGINT handler only when `session.run` returns, which an empty queue never lets it
do. While a context is active in the main thread (and SIGINT has Python's default
handler), a watcher thread woken through `signal.set_wakeup_fd` closes the runners'
queues, so the waiting run returns and KeyboardInterrupt is raised as usual.

Unlike TF-Slim's version, contexts may be nested (an inner context on the same
session finds the runners already running and leaves them to the outer one)
and one object may be entered again after it exits; note that the queues of a
session stay closed after an exit, so a second run needs a new session.
"""
import logging
import os
import signal
import socket
import threading

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
    self._watch = None

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
    try:   # a Ctrl-C here too stops what was started
      for runner in runners:
        # A runner already running in this session (an outer context) returns no threads.
        self.threads.extend(runner.create_threads(self._session, coord=self.coord, daemon=True,
                                                  start=True))
      if self.threads:
        self._watch = _InterruptWatch.start(self._interrupted(runners, self.coord))
    except BaseException:
      if self._watch is not None:
        self._watch.stop()
        self._watch = None
      self._stop(body_failed=True)
      raise
    _log.debug('QueueRunners: started %d threads', len(self.threads))
    return self

  def __exit__(self, exc_type, exc_value, traceback):
    interrupted = exc_type is not None and not issubclass(exc_type, Exception)
    owed = False
    if self._watch is not None:
      self._watch.stop()
      owed, self._watch = self._watch.pending, None
    try:
      self._stop(body_failed=exc_type is not None)
    except Exception:  # pylint: disable=broad-except
      if not interrupted:
        raise
      # A KeyboardInterrupt or SystemExit must not be replaced by an input error.
      _log.exception('QueueRunners: input thread error while stopping after %s',
                     exc_type.__name__)
    if owed and not interrupted:
      raise KeyboardInterrupt from exc_value
    return False

  def _interrupted(self, runners, coord):
    """What the watcher does on SIGINT: stop, and close the queues a run may wait on."""
    def close_queues():
      coord.request_stop()
      try:
        self._session.run([r.cancel_op for r in runners if r.cancel_op is not None])
      except (tf.errors.OpError, RuntimeError) as e:   # e.g. the session is closed already
        _log.warning('QueueRunners: could not close the queues on SIGINT: %s', e)
    return close_queues

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


class _InterruptWatch:
  """Makes SIGINT end a `session.run` that waits for input, then raise KeyboardInterrupt.

  `signal.set_wakeup_fd` wakes a thread even while the main thread is blocked in C++; the
  thread calls `on_interrupt` (which closes the queues, so the run returns). Raising
  KeyboardInterrupt inside TensorFlow's Python code while it converts the run's error
  would turn both into a RuntimeError, so there the interrupt is deferred: the signal is
  sent again a moment later, until the main thread is in other code (or the block ends).
  """

  _STOP = b'\0'   # no signal has number 0
  _RETRY_S = 0.01

  @classmethod
  def start(cls, on_interrupt):
    """A running watch, or None where it cannot be installed: outside the main thread,
    when SIGINT has another handler, or when the wakeup fd is someone else's (asyncio)."""
    if (threading.current_thread() is not threading.main_thread() or
        signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
      return None
    watch = cls(on_interrupt)
    try:   # the listener runs; until the handler is in place, Ctrl-C raises as usual
      previous = signal.set_wakeup_fd(watch._writer.fileno(), warn_on_full_buffer=False)
      if previous != -1:
        signal.set_wakeup_fd(previous)
        watch.stop()
        return None
      signal.signal(signal.SIGINT, watch._handle)
    except BaseException:
      watch.stop()
      raise
    return watch

  def __init__(self, on_interrupt):
    self._reader, self._writer = socket.socketpair()
    self._writer.setblocking(False)
    self._on_interrupt = on_interrupt
    self.pending = False   # an interrupt deferred and not raised yet
    self._retry = None
    self._stopping = False
    self._thread = threading.Thread(target=self._listen, name='QueueRunners-sigint',
                                    daemon=True)
    self._thread.start()

  def _listen(self):
    closed = False
    while True:
      data = self._reader.recv(64)
      if not data or self._STOP in data:
        return
      if signal.SIGINT in data and not closed:
        closed = True
        self._on_interrupt()

  def _handle(self, signum, frame):
    del signum
    if self._stopping:
      self.pending = True
      return
    if frame is not None and frame.f_code.co_filename.startswith(_TENSORFLOW_DIR):
      self.pending = True
      self._retry = threading.Timer(self._RETRY_S, signal.pthread_kill,
                                    (threading.main_thread().ident, signal.SIGINT))
      self._retry.start()
      return
    self.pending = False
    raise KeyboardInterrupt

  def stop(self):
    """Restores SIGINT's handler; `pending` then tells whether an interrupt is owed."""
    self._stopping = True   # from here an interrupt is only recorded
    if self._retry is not None:
      self._retry.cancel()
      self._retry.join()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    current = signal.set_wakeup_fd(-1)
    if current != self._writer.fileno():   # set by someone since (e.g. an asyncio loop)
      signal.set_wakeup_fd(current)
    self._writer.send(self._STOP)
    self._thread.join()
    self._reader.close()
    self._writer.close()


_TENSORFLOW_DIR = os.path.dirname(tf.__file__) + os.sep
