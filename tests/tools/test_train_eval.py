"""tools/train.py and tools/eval.py: train, fine-tune from a checkpoint, evaluate.

A 10-class set of 32x32 colour-coded images trains CifarNet; a 5-class set made
the same way fine-tunes it with `--checkpoint_exclude_scopes=CifarNet/logits`.
"""
import glob
import os

import numpy as np
import pytest
import tensorflow as tf

# Class k is a noisy square of its own colour on a noisy background.
COLOURS = np.array([[230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200],
                    [245, 130, 48], [145, 30, 180], [70, 240, 240], [240, 50, 230],
                    [128, 128, 0], [0, 0, 128]], np.uint8)
NAMES = ('red', 'green', 'yellow', 'blue', 'orange', 'purple', 'cyan', 'magenta', 'olive',
         'navy')


def _images(num_classes, per_class, seed):
  rng = np.random.default_rng(seed)
  examples = []
  for i in range(num_classes * per_class):
    label = i % num_classes
    pixels = rng.integers(0, 60, (32, 32, 3)).astype(np.int16)
    y, x = rng.integers(0, 12, 2)
    pixels[y:y + 20, x:x + 20] = COLOURS[label] + rng.integers(-20, 20, (20, 20, 3))
    examples.append((np.clip(pixels, 0, 255).astype(np.uint8), label))
  return examples


@pytest.fixture(scope='module')
def datasets(tmp_path_factory, write_dataset):
  root = tmp_path_factory.mktemp('colours')
  ten, five = str(root / 'colours10'), str(root / 'colours5')
  write_dataset(ten, 'colours10', {'train': _images(10, 24, 0), 'test': _images(10, 6, 1)},
                label_names=NAMES)
  write_dataset(five, 'colours5', {'train': _images(5, 24, 2), 'test': _images(5, 10, 3)},
                label_names=NAMES[:5])
  return ten, five


def _train_flags(dataset_dir, name, train_dir, steps):
  return ['--dataset_name', name, '--dataset_split_name', 'train', '--dataset_dir', dataset_dir,
          '--model_name', 'cifarnet', '--train_dir', train_dir, '--batch_size', '16',
          '--max_number_of_steps', str(steps), '--optimizer', 'adam', '--learning_rate', '0.001',
          '--opt_epsilon', '1e-8', '--learning_rate_decay_type', 'fixed', '--weight_decay', '0',
          '--num_readers', '1', '--num_preprocessing_threads', '1', '--seed', '0',
          '--save_interval_secs', '600', '--save_summaries_secs', '600']


@pytest.fixture(scope='module')
def trained(datasets, load_tool, tmp_path_factory):
  ten, _ = datasets
  train_dir = str(tmp_path_factory.mktemp('train10'))
  loss = load_tool('train').main(_train_flags(ten, 'colours10', train_dir, 60))
  return train_dir, loss


def _event_tags(train_dir):
  tags = set()
  for path in glob.glob(os.path.join(train_dir, 'events.out.tfevents.*')):
    for event in tf.compat.v1.train.summary_iterator(path):
      tags.update(v.tag for v in event.summary.value)
  return tags


def test_train_writes_checkpoints_and_the_summaries_tensorboard_shows(trained):
  train_dir, loss = trained
  assert np.isfinite(loss)
  assert tf.train.latest_checkpoint(train_dir).endswith('model.ckpt-60')
  tags = _event_tags(train_dir)
  assert 'learning_rate' in tags
  assert any(t.startswith('total_loss') for t in tags)
  assert any(t.startswith('input_images') for t in tags)
  assert any(t.startswith('losses/') for t in tags)
  assert any(t.startswith('activations/') for t in tags)
  assert any(t.startswith('sparsity/') for t in tags)


def test_fine_tuning_restores_all_but_the_excluded_logits_and_trains_them(
    trained, datasets, load_tool, tmp_path):
  source_dir, _ = trained
  _, five = datasets
  tune_dir = str(tmp_path / 'tune5')
  flags = _train_flags(five, 'colours5', tune_dir, 40) + [
      '--checkpoint_path', source_dir, '--checkpoint_exclude_scopes', 'CifarNet/logits',
      '--trainable_scopes', 'CifarNet/logits']
  load_tool('train').main(flags)

  before = tf.train.load_checkpoint(tf.train.latest_checkpoint(source_dir))
  after = tf.train.load_checkpoint(tf.train.latest_checkpoint(tune_dir))
  shapes = after.get_variable_to_shape_map()
  restored = [n for n in shapes if n.startswith('CifarNet/') and 'logits' not in n
              and not n.endswith(('/Adam', '/Adam_1'))]
  assert restored and any(n.startswith('CifarNet/conv1/') for n in restored)
  for name in restored:   # restored from the checkpoint and, not trainable, left as they were
    np.testing.assert_array_equal(after.get_tensor(name), before.get_tensor(name), err_msg=name)
  assert shapes['CifarNet/logits/weights'] == [192, 5]
  assert before.get_variable_to_shape_map()['CifarNet/logits/weights'] == [192, 10]
  assert after.get_tensor('global_step') == 40

  # New logits on the old features: far above the 0.2 of chance on the 5 classes.
  results = load_tool('eval').main([
      '--dataset_name', 'colours5', '--dataset_split_name', 'test', '--dataset_dir', five,
      '--model_name', 'cifarnet', '--checkpoint_path', tune_dir,
      '--eval_dir', str(tmp_path / 'eval5'), '--batch_size', '16',
      '--num_preprocessing_threads', '1'])
  assert results['Accuracy'] > 0.6


def _accuracy_computed_directly(checkpoint, dataset_dir, name):
  """The same net and preprocessing, fed every test image through a placeholder."""
  import descriptors
  from models import nets_factory, preprocessing_factory
  dataset = descriptors.get_split(name, 'test', dataset_dir)
  records = [r.numpy() for r in tf.data.TFRecordDataset(dataset.data_sources)]
  with tf.Graph().as_default():
    serialized = tf.compat.v1.placeholder(tf.string, [])
    image, label = dataset.decoder.decode(serialized, ['image', 'label'])
    image = preprocessing_factory.get_preprocessing('cifarnet')(image, 32, 32)
    logits, _ = nets_factory.get_network_fn('cifarnet', num_classes=10)(image[None])
    with tf.compat.v1.Session() as sess:
      tf.compat.v1.train.Saver().restore(sess, checkpoint)
      correct = [int(np.argmax(l) == y) for l, y in
                 (sess.run([logits[0], label], {serialized: r}) for r in records)]
  return np.mean(correct), len(correct)


@pytest.mark.parametrize('decode_flags', [[], ['--decode_in_session']])
def test_eval_reports_the_accuracy_computed_another_way(trained, datasets, load_tool, tmp_path,
                                                        decode_flags):
  train_dir, _ = trained
  ten, _ = datasets
  eval_dir = str(tmp_path / 'eval10')
  results = load_tool('eval').main([
      '--dataset_name', 'colours10', '--dataset_split_name', 'test', '--dataset_dir', ten,
      '--model_name', 'cifarnet', '--checkpoint_path', train_dir, '--eval_dir', eval_dir,
      '--batch_size', '16', '--num_preprocessing_threads', '1'] + decode_flags)
  expected, count = _accuracy_computed_directly(tf.train.latest_checkpoint(train_dir), ten,
                                                'colours10')
  assert count == 60
  assert results['Accuracy'] == pytest.approx(expected, abs=1e-6)
  assert results['Top5_Accuracy'] >= results['Accuracy']
  assert 'eval/Accuracy' in _event_tags(eval_dir)


def test_train_can_decode_in_its_preprocessing_threads(datasets, load_tool, tmp_path):
  ten, _ = datasets
  train_dir = str(tmp_path / 'train_in_session')
  loss = load_tool('train').main(
      _train_flags(ten, 'colours10', train_dir, 5) + ['--decode_in_session'])
  assert np.isfinite(loss)
  assert tf.train.latest_checkpoint(train_dir).endswith('model.ckpt-5')
