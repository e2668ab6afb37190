"""NumPy references and a session runner for the layer tests.

    got = layers_testlib.run(slim.conv2d(x, 4, 3))  # initializes, then evaluates
    want = layers_testlib.np_conv(x, w, strides=(1, 1), padding='SAME')
"""
import itertools

import numpy as np
import tensorflow as tf

_v1 = tf.compat.v1


def run(fetches, feed_dict=None):
  """Initializes the current graph's variables and evaluates `fetches`."""
  with _v1.Session() as sess:
    sess.run([_v1.global_variables_initializer(), _v1.local_variables_initializer()])
    return sess.run(fetches, feed_dict)


def _same_pads(size, kernel, stride, rate=1):
  effective = (kernel - 1) * rate + 1
  out = -(-size // stride)
  total = max((out - 1) * stride + effective - size, 0)
  return out, (total // 2, total - total // 2)


def np_conv(x, w, strides, padding, rates=None):
  """N-D convolution (cross-correlation) of channels-last `x` with `w` [*k, in, out]."""
  spatial = x.ndim - 2
  rates = rates or (1,) * spatial
  pads, out_sizes = [], []
  for d in range(spatial):
    size, k, s, r = x.shape[1 + d], w.shape[d], strides[d], rates[d]
    if padding == 'SAME':
      out, pad = _same_pads(size, k, s, r)
    else:
      out, pad = (size - ((k - 1) * r + 1)) // s + 1, (0, 0)
    out_sizes.append(out)
    pads.append(pad)
  xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
  out = np.zeros([x.shape[0]] + out_sizes + [w.shape[-1]])
  for pos in itertools.product(*[range(o) for o in out_sizes]):
    window = tuple(slice(p * s, p * s + (k - 1) * r + 1, r)
                   for p, s, k, r in zip(pos, strides, w.shape, rates))
    patch = xp[(slice(None),) + window]
    out[(slice(None),) + pos] = np.tensordot(
        patch, w, axes=(list(range(1, spatial + 2)), list(range(spatial + 1))))
  return out


def np_depthwise(x, w, strides, padding, rates=None):
  """Depthwise 2-D convolution: `w` [kh, kw, in, multiplier], output channel c * m + j."""
  channels, multiplier = w.shape[2], w.shape[3]
  outs = []
  for c in range(channels):
    for j in range(multiplier):
      outs.append(np_conv(x[..., c:c + 1], w[:, :, c:c + 1, j:j + 1], strides, padding, rates))
  return np.concatenate(outs, axis=-1)


def np_conv2d_transpose(x, w, stride, padding):
  """Transposed 2-D convolution of NHWC `x` with `w` [kh, kw, out, in] (scatter-add)."""
  n, h, wd, _ = x.shape
  kh, kw, out_ch, _ = w.shape
  full = np.zeros([n, (h - 1) * stride + kh, (wd - 1) * stride + kw, out_ch])
  for i, j in itertools.product(range(h), range(wd)):
    contribution = np.tensordot(x[:, i, j, :], w, axes=([1], [3]))  # [n, kh, kw, out]
    full[:, i * stride:i * stride + kh, j * stride:j * stride + kw, :] += contribution
  if padding == 'VALID':
    return full
  out_h, out_w = h * stride, wd * stride
  top = max((h - 1) * stride + kh - out_h, 0) // 2
  left = max((wd - 1) * stride + kw - out_w, 0) // 2
  return full[:, top:top + out_h, left:left + out_w, :]


def np_pool(x, kernel, stride, padding, kind):
  """2-D NHWC max or average pooling; SAME padding is ignored by both (as in TF)."""
  n, h, w, c = x.shape
  if padding == 'SAME':
    out_h, (top, _) = _same_pads(h, kernel[0], stride[0])
    out_w, (left, _) = _same_pads(w, kernel[1], stride[1])
  else:
    out_h, out_w = (h - kernel[0]) // stride[0] + 1, (w - kernel[1]) // stride[1] + 1
    top = left = 0
  out = np.zeros([n, out_h, out_w, c])
  for i, j in itertools.product(range(out_h), range(out_w)):
    r0, c0 = i * stride[0] - top, j * stride[1] - left
    window = x[:, max(r0, 0):r0 + kernel[0], max(c0, 0):c0 + kernel[1], :]
    out[:, i, j, :] = window.max(axis=(1, 2)) if kind == 'max' else window.mean(axis=(1, 2))
  return out
