"""Errors raised by descriptors: each names the dataset, split, directory or file at fault.

    try:
      dataset = descriptors.get_split('flowers', 'test', '/data/flowers')
    except descriptors.errors.UnknownSplitError as e:
      print(e)   # unknown split 'test' of flowers; known: train, validation
"""
from descriptors.manifest import ManifestError  # a manifest unreadable or disagreeing with files

__all__ = ['DescriptorError', 'UnknownDatasetError', 'UnknownSplitError', 'MissingFilesError',
           'ManifestError']


class DescriptorError(ValueError):
  """Base class of the errors descriptors raise about datasets on disk."""


class UnknownDatasetError(DescriptorError):
  """A dataset name that no descriptor is registered under."""


class UnknownSplitError(DescriptorError):
  """A split name the dataset (its manifest or its published splits) does not have."""


class MissingFilesError(DescriptorError):
  """A directory that lacks the files a split needs (none at all, or some shards)."""
