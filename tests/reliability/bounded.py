"""Runs a scenario in a thread joined with a bound: against hanging, not a timing."""
import threading


def run_bounded(fn, bound_s, what):
  """(fn()'s result, the exception it raised or None); fails the test if `what` (the
  scenario, for the message) does not end within `bound_s` seconds."""
  out = {}

  def run():
    try:
      out['value'] = fn()
    except BaseException as e:  # pylint: disable=broad-except
      out['error'] = e
  thread = threading.Thread(target=run, daemon=True)
  thread.start()
  thread.join(bound_s)
  assert not thread.is_alive(), f'{what} did not end within {bound_s} s (hang)'
  return out.get('value'), out.get('error')
