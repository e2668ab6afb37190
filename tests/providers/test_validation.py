"""`validation.checked_examples`: it passes what TensorFlow's Example parser reads and stops,
with a TensorFlow error, what would crash it or make it raise an undecodable message.

Records are built byte by byte from protobuf's wire format where a serializer would not
write them (concatenated Examples, fields out of order, unknown fields)."""
import pytest
import tensorflow as tf

from providers import validation

SPEC = {'a': tf.io.FixedLenFeature([], tf.int64, default_value=-1),
        'b': tf.io.VarLenFeature(tf.string)}


def _example(**features):
  feature = {}
  for key, value in features.items():
    if isinstance(value, bytes):
      feature[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
    elif isinstance(value, float):
      feature[key] = tf.train.Feature(float_list=tf.train.FloatList(value=[value]))
    else:
      feature[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
  return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _varint(n):
  out = bytearray()
  while n >= 0x80:
    out.append(n & 0x7f | 0x80)
    n >>= 7
  return bytes(out + bytes([n]))


def _field(number, payload):
  """A length-delimited field."""
  return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _record(*entries, features_extra=b''):
  """An Example whose Features holds `entries` (each the bytes of one map entry)."""
  return _field(1, b''.join(_field(1, e) for e in entries) + features_extra)


def _entry(key, feature, *, value_first=False):
  key_field, value_field = _field(1, key), _field(2, feature)
  return value_field + key_field if value_first else key_field + value_field


INT_FEATURE = _field(3, _field(1, _varint(7)))          # Feature{int64_list{value: [7]}}
# A BytesList whose one value claims 2**32 - 1 bytes: its length varint overflows.
BROKEN_BYTES_FEATURE = _field(1, b'\x0a\xff\xff\xff\xff\x0f')


def _parsed(records, validated):
  records = tf.constant(records)
  if validated:
    records = validation.checked_examples(records)
  parsed = tf.io.parse_example(records, SPEC)
  return parsed['a'].numpy().tolist(), tf.sparse.to_dense(parsed['b']).numpy().tolist()


@pytest.mark.parametrize('record', [
    b'',                                                          # empty Example
    _example(),
    _example(a=3, b=b'x' * 300, c=2.5),
    _example(b=b'\xff' * 70000),                                  # 3-byte lengths
    _example(a=1) + _example(b=b'y'),                             # concatenated
    _record(_entry(b'a', INT_FEATURE, value_first=True)),         # value before key
], ids=['empty', 'no features', 'three kinds', 'large value', 'concatenated',
        'value first'])
def test_what_the_parser_reads_passes_unchanged(record):
  records = [record, _example(a=5, b=b'z')]
  assert _parsed(records, validated=True) == _parsed(records, validated=False)


def test_any_shape_and_graph_mode():
  with tf.Graph().as_default():
    checked = validation.checked_examples(tf.constant([[_example(a=1)], [_example(a=2)]]))
    empty = validation.checked_examples(tf.constant([], tf.string))
    with tf.compat.v1.Session() as session:
      out, nothing = session.run([checked, empty])
  assert out.shape == (2, 1) and nothing.shape == (0,)
  assert tf.train.Example.FromString(out[1, 0]).features.feature['a'].int64_list.value == [2]


def test_a_broken_first_features_behind_a_good_one_is_data_loss():
  """Protobuf keeps the last of a repeated singular field and decode_proto returns only
  that one, but TensorFlow's parser reads every `features` of a concatenated Example:
  each occurrence must be checked (tests/reliability/test_fuzz_decoder.py shows this very
  record crashing TensorFlow unchecked)."""
  hidden = _record(_entry(b'b', BROKEN_BYTES_FEATURE)) + _example(a=1)
  with pytest.raises(tf.errors.DataLossError):
    validation.checked_examples(tf.constant([_example(a=1), hidden]))


def test_a_broken_first_list_of_a_feature_is_data_loss():
  """The parser reads a Feature's first list; protobuf keeps its last."""
  feature = BROKEN_BYTES_FEATURE + _field(1, _field(1, b'fine'))
  with pytest.raises(tf.errors.DataLossError):
    validation.checked_examples(tf.constant([_record(_entry(b'b', feature))]))


@pytest.mark.parametrize('record', [
    _record(_entry(b'a', INT_FEATURE), features_extra=b'\x10\x01'),   # unknown field
    _record(_entry(b'a', INT_FEATURE) + b'\x18\x01'),                 # entry: third field
    _record(_field(1, b'a')),                                         # entry: key only
    _record(b''),                                                     # entry: empty
    _record(_entry(b'a', INT_FEATURE) + _field(2, INT_FEATURE)),      # entry: two values
], ids=['unknown field in Features', 'unknown field in entry', 'key only', 'empty entry',
        'three fields'])
def test_a_layout_the_parser_refuses_is_named(record):
  with pytest.raises(tf.errors.InvalidArgumentError, match='not laid out as a serialized'):
    validation.checked_examples(tf.constant([_example(a=1), record]))
  # TensorFlow's own parser refuses it too, quoting the record's raw bytes.
  with pytest.raises(tf.errors.InvalidArgumentError, match='Could not parse example input'):
    tf.io.parse_example(tf.constant([record]), SPEC)


def test_unknown_example_fields_are_refused_though_the_parser_skips_some():
  """The parser skips an unknown varint field in an Example but refuses a group with an
  error quoting raw bytes (UnicodeDecodeError when they are not UTF-8). No serializer
  writes either, so both are refused."""
  skipped, group = _example(a=2) + b'\x18\x05', _example(a=2) + b'\x1b\x0a\x01\xff\x1c'
  assert _parsed([skipped], validated=False)[0] == [2]
  with pytest.raises(UnicodeDecodeError):
    tf.io.parse_example(tf.constant([group]), SPEC)
  for record in (skipped, group):
    with pytest.raises(tf.errors.InvalidArgumentError, match='unknown field in Example'):
      validation.checked_examples(tf.constant([record]))


def test_a_feature_name_that_is_not_utf8_is_named():
  """Protobuf requires UTF-8 names; TensorFlow's parser refuses others with a message its
  Python cannot decode."""
  with pytest.raises(tf.errors.InvalidArgumentError, match='not UTF-8'):
    validation.checked_examples(tf.constant([_record(_entry(b'\xff\xfe', INT_FEATURE))]))
