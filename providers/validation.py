"""A guard in front of `tf.io.parse_example` for records that may be malformed.

TensorFlow 2.21's fast Example parser crashes the process (SIGSEGV) on some byte
strings that are not valid `tf.train.Example`s (tests/reliability/test_fuzz_decoder.py
pins one: a BytesList value whose length varint overflows). `checked_examples` walks
each record's wire format with `tf.io.decode_proto`, a separate parser that reports
such bytes as `DataLossError`, before the decoder parses it:

    records = checked_examples(records)      # raises an error instead of crashing

Example -> Features -> feature map entries -> Feature -> BytesList/FloatList/Int64List:
every level is decoded, so every length and varint is read once by a parser that checks
them; feature names must be UTF-8, as protobuf requires. It costs about as much as
parsing the record again; `DatasetDataProvider` applies it with `validate_records=True`.
"""
import tensorflow as tf

_LISTS = (('bytes_list', 'tensorflow.BytesList', tf.string),
          ('float_list', 'tensorflow.FloatList', tf.float32),
          ('int64_list', 'tensorflow.Int64List', tf.int64))


def _fields(messages, message_type, fields, dtypes):
  """For each of `fields`, its values in every message of the 1-D string tensor `messages`,
  flattened, with padding: one decode_proto for all of them. The padding of a message
  field is the empty string, itself a valid (empty) message, so it can go on to the next
  level unmasked."""
  # decode_proto refuses an empty batch; an empty string is a valid message with no fields.
  messages = tf.concat([messages, ['']], 0)
  decoded = tf.io.decode_proto(messages, message_type, list(fields), list(dtypes))
  return [tf.reshape(values, [-1]) for values in decoded.values]


def _field(messages, message_type, field, dtype=tf.string):
  return _fields(messages, message_type, [field], [dtype])[0]


def checked_examples(records):
  """`records` (a string tensor of serialized Examples, any shape), after checking that each
  is a well-formed `tf.train.Example`: raises `tf.errors.DataLossError` for damaged wire
  format, `tf.errors.InvalidArgumentError` for a feature name that is not UTF-8."""
  flat = tf.reshape(records, [-1])
  entries = _field(_field(flat, 'tensorflow.Example', 'features'),
                   'tensorflow.Features', 'feature')
  names, features = _fields(entries, 'tensorflow.Features.FeatureEntry', ['key', 'value'],
                            [tf.string, tf.string])
  # The parser rejects a name that is not UTF-8 with an error quoting the record's raw
  # bytes, which TensorFlow's Python then fails to decode (UnicodeDecodeError).
  utf8 = tf.reduce_all(tf.equal(
      tf.strings.unicode_transcode(names, 'UTF-8', 'UTF-8', errors='replace'), names))
  named = tf.debugging.Assert(utf8, ['a record has a feature name that is not UTF-8'])
  kinds, list_types, dtypes = zip(*_LISTS)
  lists = _fields(features, 'tensorflow.Feature', kinds, [tf.string] * len(kinds))
  values = [tf.size(_field(l, t, 'value', d)) for l, t, d in zip(lists, list_types, dtypes)]
  # Graph optimizers drop control edges from stateless ops; an Assert is stateful, so the
  # parse that follows waits for every decode_proto above.
  done = tf.debugging.Assert(tf.add_n(values) >= 0, ['checked_examples'])
  with tf.control_dependencies([done, named]):
    return tf.identity(records)
