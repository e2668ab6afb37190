"""A guard in front of `tf.io.parse_example` for records that may be malformed.

TensorFlow 2.21's fast Example parser crashes the process (SIGSEGV) on some byte
strings that are not valid `tf.train.Example`s (tests/reliability/test_fuzz_decoder.py
pins one: a BytesList value whose length varint overflows), and rejects others with a
message quoting the record's raw bytes, which TensorFlow's Python then fails to decode
(UnicodeDecodeError). `checked_examples` walks each record's wire format with
`tf.io.decode_proto`, a separate parser that reports damage as `DataLossError`, before
the decoder parses it:

    records = checked_examples(records)      # raises an error instead of crashing

Example -> Features -> feature map entries -> Feature -> BytesList/FloatList/Int64List:
every level is decoded, every occurrence of a field included (the fast parser reads
all `features` of a concatenated Example and the first list of a Feature, where protobuf
keeps the last), so every length and varint it will read is read first by a parser that
checks them. The first three levels must also have the layout protobuf's serializers
write, nothing the fast parser refuses with a message quoting raw bytes: no unknown
field (the parser skips some in an Example, but not groups, and none elsewhere), and
exactly two fields, a key and a value, in an entry; feature names must be UTF-8, as
protobuf requires. It costs several times the parse it guards (docs/PERFORMANCE.md);
`DatasetDataProvider` applies it with `validate_records=True`.
"""
from google.protobuf import descriptor_pb2
import tensorflow as tf

_PACKAGE = 'slimdata.validation'


def _descriptors():
  """`decode_proto`'s descriptor source: Example's outer levels with every field declared
  `repeated bytes`, so each occurrence of a field comes back, undecoded."""
  messages = {'Example': ['features'], 'Features': ['feature'], 'Entry': ['key', 'value'],
              'Feature': ['bytes_list', 'float_list', 'int64_list']}
  proto = descriptor_pb2.FileDescriptorProto(name='slimdata_validation.proto',
                                             package=_PACKAGE)
  for name, fields in messages.items():
    message = proto.message_type.add(name=name)
    for number, field in enumerate(fields, 1):
      message.field.add(name=field, number=number,
                        type=descriptor_pb2.FieldDescriptorProto.TYPE_BYTES,
                        label=descriptor_pb2.FieldDescriptorProto.LABEL_REPEATED)
  return b'bytes://' + descriptor_pb2.FileDescriptorSet(file=[proto]).SerializeToString()


_SOURCE = _descriptors()
_LISTS = (('tensorflow.BytesList', tf.string), ('tensorflow.FloatList', tf.float32),
          ('tensorflow.Int64List', tf.int64))


class _Decoded:
  """`fields` of every message of the 1-D string tensor `messages`: one decode_proto."""

  def __init__(self, messages, message_type, fields, dtypes=None):
    self.messages = messages
    ours = dtypes is None
    decoded = tf.io.decode_proto(
        messages, f'{_PACKAGE}.{message_type}' if ours else message_type, list(fields),
        [tf.string] * len(fields) if ours else list(dtypes),
        descriptor_source=_SOURCE if ours else 'local://')
    self.sizes, self.values = decoded.sizes, decoded.values

  def flat(self, i=0):
    """Field `i`'s values, flattened with padding. The padding of a message field is the
    empty string, itself a valid (empty) message with no fields, so it can go on to the
    next level unmasked."""
    return tf.reshape(self.values[i], [-1])

  def nothing_else(self):
    """Whether each message is its fields and nothing else (no unknown field), each with a
    one-byte tag and a minimal length: the sum of their sizes is the message's."""
    unaccounted = tf.strings.length(self.messages)
    for i, values in enumerate(self.values):
      lengths = tf.strings.length(values)
      # Tag, length varint, bytes; a padding value (length 0) would count 2 bytes.
      written = tf.reduce_sum(lengths + _varint_size_less_one(lengths) + 2, axis=1)
      unaccounted -= written - 2 * (tf.shape(values)[1] - self.sizes[:, i])
    return tf.reduce_all(tf.equal(unaccounted, 0))


def _varint_size_less_one(n):
  """Bytes of the minimal varint of each `n` (non-negative, under 2**32), less one."""
  return tf.raw_ops.Bucketize(input=n, boundaries=[1 << 7, 1 << 14, 1 << 21, 1 << 28])


def checked_examples(records):
  """`records` (a string tensor of serialized Examples, any shape), after checking that each
  is a well-formed `tf.train.Example`: raises `tf.errors.DataLossError` for damaged wire
  format, `tf.errors.InvalidArgumentError` for a layout no serializer writes, which
  TensorFlow's parser may refuse with an undecodable message (an unknown field, an
  entry that is not one key and one value, a feature name that is not UTF-8)."""
  # decode_proto refuses an empty batch: one empty Example (a valid one) more.
  flat = tf.concat([tf.reshape(records, [-1]), ['']], 0)
  example = _Decoded(flat, 'Example', ['features'])
  features = _Decoded(example.flat(), 'Features', ['feature'])
  entries = _Decoded(features.flat(), 'Entry', ['key', 'value'])
  real_entries = tf.reshape(   # not padding (an empty entry is no key and value either)
      tf.sequence_mask(features.sizes[:, 0], tf.shape(features.values[0])[1]), [-1])
  key_and_value = tf.equal(tf.reduce_sum(entries.sizes, axis=1), 2)
  laid_out = tf.debugging.Assert(
      tf.reduce_all([example.nothing_else(), features.nothing_else(), entries.nothing_else(),
                     tf.reduce_all(tf.logical_or(tf.logical_not(real_entries), key_and_value))]),
      ['a record is not laid out as a serialized tf.train.Example (an unknown field in '
       'Example, Features or a feature entry, or an entry that is not one key and one value)'])
  names = entries.flat(0)
  utf8 = tf.reduce_all(tf.equal(
      tf.strings.unicode_transcode(names, 'UTF-8', 'UTF-8', errors='replace'), names))
  named = tf.debugging.Assert(utf8, ['a record has a feature name that is not UTF-8'])
  lists = _Decoded(entries.flat(1), 'Feature', ['bytes_list', 'float_list', 'int64_list'])
  values = [tf.size(_Decoded(lists.flat(i), list_type, ['value'], [dtype]).values[0])
            for i, (list_type, dtype) in enumerate(_LISTS)]
  # Graph optimizers drop control edges from stateless ops; an Assert is stateful, so the
  # parse that follows waits for every decode_proto above.
  done = tf.debugging.Assert(tf.add_n(values) >= 0, ['checked_examples'])
  with tf.control_dependencies([done, named, laid_out]):
    return tf.identity(records)
