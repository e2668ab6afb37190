"""Trains a network on a converted dataset; research/slim's train_image_classifier, on slimdata.

    python tools/train.py --dataset_name mnist --dataset_dir /data/mnist \
        --model_name lenet --train_dir /tmp/lenet --max_number_of_steps 2000

Flag names and defaults are research/slim's, so its commands run unchanged.
Checkpoints and TensorBoard events go to --train_dir; a rerun resumes there.
"""
import argparse
import os
import sys

# A checkout's tools run without installing: the repository root takes the place
# of tools/ on the path (where tools/inspect.py would shadow the standard library).
_TOOLS = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == _TOOLS:
  sys.path[0] = os.path.dirname(_TOOLS)
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')


def str2bool(text):
  """absl-style booleans: true/false/1/0/yes/no."""
  value = str(text).lower()
  if value in ('1', 'true', 't', 'yes', 'y'):
    return True
  if value in ('0', 'false', 'f', 'no', 'n'):
    return False
  raise argparse.ArgumentTypeError(f'expected a boolean, got {text!r}')


def add_bool(parser, name, default, help_text):
  parser.add_argument(f'--{name}', type=str2bool, nargs='?', const=True, default=default,
                      help=help_text)
  parser.add_argument(f'--no{name}', dest=name, action='store_false', help=argparse.SUPPRESS)


def build_parser():
  p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  a = p.add_argument
  # Input and output.
  a('--train_dir', default='/tmp/tfmodel/', help='Where checkpoints and event logs are written.')
  a('--master', default='', help='The address of the TensorFlow master to use.')
  a('--dataset_name', default='imagenet', help='The name of the dataset to load.')
  a('--dataset_split_name', default='train', help='The name of the train/test split.')
  a('--dataset_dir', default=None, help='The directory where the dataset files are stored.')
  a('--labels_offset', type=int, default=0,
    help='Offset for the labels; 1 for networks trained without a background class.')
  a('--model_name', default='inception_v3', help='The name of the architecture to train.')
  a('--preprocessing_name', default=None, help='Defaults to the model name.')
  a('--batch_size', type=int, default=32)
  a('--train_image_size', type=int, default=None, help='Defaults to the net\'s own size.')
  a('--max_number_of_steps', type=int, default=None)
  a('--num_readers', type=int, default=4)
  a('--num_preprocessing_threads', type=int, default=4)
  a('--decode_in_session', action='store_true',
    help='Decode images in the preprocessing threads, as TF-Slim did: faster for images '
         'of varying size; an undecodable image then raises TensorFlow\'s own error, '
         'naming no record.')
  a('--log_every_n_steps', type=int, default=10)
  a('--save_summaries_secs', type=int, default=600)
  a('--save_interval_secs', type=int, default=600)
  a('--seed', type=int, default=None, help='Shuffle and initialisation seed.')
  # Optimization.
  a('--weight_decay', type=float, default=0.00004)
  a('--optimizer', default='rmsprop',
    choices=['adadelta', 'adagrad', 'adam', 'ftrl', 'momentum', 'rmsprop', 'sgd'])
  a('--adadelta_rho', type=float, default=0.95)
  a('--adagrad_initial_accumulator_value', type=float, default=0.1)
  a('--adam_beta1', type=float, default=0.9)
  a('--adam_beta2', type=float, default=0.999)
  a('--opt_epsilon', type=float, default=1.0)
  a('--ftrl_learning_rate_power', type=float, default=-0.5)
  a('--ftrl_initial_accumulator_value', type=float, default=0.1)
  a('--ftrl_l1', type=float, default=0.0)
  a('--ftrl_l2', type=float, default=0.0)
  a('--momentum', type=float, default=0.9)
  a('--rmsprop_momentum', type=float, default=0.9)
  a('--rmsprop_decay', type=float, default=0.9)
  # Learning rate.
  a('--learning_rate_decay_type', default='exponential',
    choices=['fixed', 'exponential', 'polynomial'])
  a('--learning_rate', type=float, default=0.01)
  a('--end_learning_rate', type=float, default=0.0001)
  a('--label_smoothing', type=float, default=0.0)
  a('--learning_rate_decay_factor', type=float, default=0.94)
  a('--num_epochs_per_decay', type=float, default=2.0)
  a('--moving_average_decay', type=float, default=None)
  # Fine-tuning.
  a('--checkpoint_path', default=None, help='A checkpoint (or folder) to start from.')
  a('--checkpoint_exclude_scopes', default=None,
    help='Comma-separated scopes not restored from --checkpoint_path.')
  a('--trainable_scopes', default=None, help='Comma-separated scopes to train; default all.')
  add_bool(p, 'ignore_missing_vars', False, 'Ignore variables missing from the checkpoint.')
  return p


def configure_learning_rate(args, num_samples_per_epoch, global_step):
  import tensorflow as tf
  decay_steps = max(1, int(num_samples_per_epoch * args.num_epochs_per_decay / args.batch_size))
  if args.learning_rate_decay_type == 'exponential':
    return tf.compat.v1.train.exponential_decay(
        args.learning_rate, global_step, decay_steps, args.learning_rate_decay_factor,
        staircase=True, name='exponential_decay_learning_rate')
  if args.learning_rate_decay_type == 'polynomial':
    return tf.compat.v1.train.polynomial_decay(
        args.learning_rate, global_step, decay_steps, args.end_learning_rate, power=1.0,
        cycle=False, name='polynomial_decay_learning_rate')
  return tf.constant(args.learning_rate, name='fixed_learning_rate')


def configure_optimizer(args, learning_rate):
  import tensorflow as tf
  train = tf.compat.v1.train
  if args.optimizer == 'adadelta':
    return train.AdadeltaOptimizer(learning_rate, rho=args.adadelta_rho, epsilon=args.opt_epsilon)
  if args.optimizer == 'adagrad':
    return train.AdagradOptimizer(
        learning_rate, initial_accumulator_value=args.adagrad_initial_accumulator_value)
  if args.optimizer == 'adam':
    return train.AdamOptimizer(learning_rate, beta1=args.adam_beta1, beta2=args.adam_beta2,
                               epsilon=args.opt_epsilon)
  if args.optimizer == 'ftrl':
    return train.FtrlOptimizer(
        learning_rate, learning_rate_power=args.ftrl_learning_rate_power,
        initial_accumulator_value=args.ftrl_initial_accumulator_value,
        l1_regularization_strength=args.ftrl_l1, l2_regularization_strength=args.ftrl_l2)
  if args.optimizer == 'momentum':
    return train.MomentumOptimizer(learning_rate, momentum=args.momentum, name='Momentum')
  if args.optimizer == 'rmsprop':
    return train.RMSPropOptimizer(learning_rate, decay=args.rmsprop_decay,
                                  momentum=args.rmsprop_momentum, epsilon=args.opt_epsilon)
  return train.GradientDescentOptimizer(learning_rate)


def split_scopes(text):
  return [s.strip() for s in text.split(',') if s.strip()] if text else []


def init_fn_for(args):
  """Restores --checkpoint_path minus the excluded scopes, unless train_dir already has one."""
  import tensorflow as tf
  import slimdata as slim
  if not args.checkpoint_path:
    return None
  if tf.train.latest_checkpoint(args.train_dir):
    print(f'Ignoring --checkpoint_path: {args.train_dir} already holds a checkpoint.')
    return None
  exclusions = split_scopes(args.checkpoint_exclude_scopes)
  variables_to_restore = [
      v for v in slim.get_model_variables()
      if not any(v.op.name.startswith(scope) for scope in exclusions)]
  path = args.checkpoint_path
  if tf.io.gfile.isdir(path):
    path = tf.train.latest_checkpoint(path)
    if path is None:
      raise SystemExit(f'--checkpoint_path: no checkpoint in folder {args.checkpoint_path}')
  print(f'Fine-tuning from {path}')
  return slim.assign_from_checkpoint_fn(
      path, variables_to_restore, ignore_missing_vars=args.ignore_missing_vars)


def variables_to_train_for(args):
  import tensorflow as tf
  scopes = split_scopes(args.trainable_scopes)
  if not scopes:
    return tf.compat.v1.trainable_variables()
  variables = []
  for scope in scopes:
    variables.extend(tf.compat.v1.get_collection(
        tf.compat.v1.GraphKeys.TRAINABLE_VARIABLES, scope))
  return variables


def main(argv=None):
  args = build_parser().parse_args(argv)
  if not args.dataset_dir:
    raise SystemExit('--dataset_dir is required: the folder tools/convert.py wrote.')
  import tensorflow as tf
  import descriptors
  import slimdata as slim
  from models import nets_factory, preprocessing_factory
  from providers.dataset_data_provider import DatasetDataProvider
  tf.get_logger().setLevel('ERROR')  # the queue-input deprecation notices

  with tf.Graph().as_default():
    if args.seed is not None:
      tf.compat.v1.set_random_seed(args.seed)
    global_step = slim.get_or_create_global_step()
    dataset = descriptors.get_split(args.dataset_name, args.dataset_split_name, args.dataset_dir)
    num_classes = dataset.num_classes - args.labels_offset
    network_fn = nets_factory.get_network_fn(
        args.model_name, num_classes=num_classes, weight_decay=args.weight_decay,
        is_training=True)
    preprocessing_fn = preprocessing_factory.get_preprocessing(
        args.preprocessing_name or args.model_name, is_training=True)

    with tf.device('/cpu:0'):
      provider = DatasetDataProvider(
          dataset, num_readers=args.num_readers, common_queue_capacity=20 * args.batch_size,
          common_queue_min=10 * args.batch_size, seed=args.seed,
          decode_in_session=args.decode_in_session)
      image, label = provider.get(['image', 'label'])
      label -= args.labels_offset
      size = args.train_image_size or network_fn.default_image_size
      image = preprocessing_fn(image, size, size)
      images, labels = tf.compat.v1.train.batch(
          [image, label], batch_size=args.batch_size,
          num_threads=args.num_preprocessing_threads, capacity=5 * args.batch_size)
      onehot_labels = slim.one_hot_encoding(labels, num_classes)

    logits, end_points = network_fn(images)
    if 'AuxLogits' in end_points:
      slim.losses.softmax_cross_entropy(
          end_points['AuxLogits'], onehot_labels, label_smoothing=args.label_smoothing,
          weights=0.4, scope='aux_loss')
    slim.losses.softmax_cross_entropy(
        logits, onehot_labels, label_smoothing=args.label_smoothing, weights=1.0)

    update_ops = tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.UPDATE_OPS)
    if args.moving_average_decay:
      averages = tf.compat.v1.train.ExponentialMovingAverage(
          args.moving_average_decay, global_step)
      update_ops.append(averages.apply(slim.get_model_variables()))

    learning_rate = configure_learning_rate(args, dataset.num_samples, global_step)
    optimizer = configure_optimizer(args, learning_rate)
    total_loss = slim.losses.get_total_loss()
    train_op = slim.learning.create_train_op(
        total_loss, optimizer, update_ops=update_ops,
        variables_to_train=variables_to_train_for(args))

    summary = tf.compat.v1.summary
    summary.image('input_images', images, max_outputs=3)
    summary.scalar('learning_rate', learning_rate)
    summary.scalar('total_loss', total_loss)
    for loss in slim.losses.get_losses():
      summary.scalar(f'losses/{loss.op.name}', loss)
    for name, activation in end_points.items():
      summary.histogram(f'activations/{name}', activation)
      summary.scalar(f'sparsity/{name}', tf.nn.zero_fraction(activation))

    final_loss = slim.learning.train(
        train_op, logdir=args.train_dir, master=args.master, init_fn=init_fn_for(args),
        number_of_steps=args.max_number_of_steps, log_every_n_steps=args.log_every_n_steps,
        save_summaries_secs=args.save_summaries_secs,
        save_interval_secs=args.save_interval_secs)
  print(f'Final loss: {final_loss:.4f}' if final_loss is not None else 'Training done.')
  return final_loss


if __name__ == '__main__':
  main()
