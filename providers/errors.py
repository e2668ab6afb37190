"""Errors raised by providers, each naming the file or record at fault.

    try:
      image, label = provider.get(['image', 'label'])
    except providers.errors.CorruptDataError as e:
      print(e.file, e.message)       # the shard to re-convert or verify

`CorruptDataError` is a `tf.errors.DataLossError`, so code that caught TensorFlow's
error for a bad record keeps working.
"""
import re

import tensorflow as tf

# In-graph checks put this tag in front of their message, so the eager boundary can
# recognise them among TensorFlow's errors and re-raise them as CorruptDataError.
TAG = 'slimdata-corrupt-data'
_FILE = re.compile(r'shard(?:\(s\))? (.+?)(?:, | is | are )')


class CorruptDataError(tf.errors.DataLossError):
  """A record that cannot be read (bad CRC, truncated shard) or decoded (bad image).

  Attributes:
    file: the shard the record came from.
    message: what is wrong and what to do about it.
  """

  def __init__(self, message, file=None):
    super().__init__(None, None, message)
    self.file = file

  @classmethod
  def from_op_error(cls, error):
    """The CorruptDataError for an in-graph check's `error`, or None if it is another error."""
    text = getattr(error, 'message', str(error))
    start = text.find(TAG)
    if start < 0:
      return None
    message = text[start + len(TAG):].lstrip(': ')
    # Assert prints its data C-escaped inside [...] and appends the op's context.
    message = re.split(r'\]\s*\n|\]$', message, maxsplit=1)[0].strip()
    message = message.replace("\\'", "'").replace('\\"', '"').replace('\\\\', '\\')
    match = _FILE.search(message)
    return cls(message, file=match.group(1) if match else None)


class ReaderError(ValueError):
  """A `reader` (or its `reader_kwargs`) that providers cannot turn into a tf.data reader."""
