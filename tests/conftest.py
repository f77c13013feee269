"""Fixtures the tests in this folder share."""

from tests.cache_support import cache, family  # noqa: F401 (the DynamoDB cache tests' fixtures)
from tests.iam_support import recorder  # noqa: F401 (the IAM policy tests' call recorder)
