"""The error pooling raises for a day or request the user can fix."""

from network.errors import GongpeiError


class PoolingError(GongpeiError):
    """A pooling day or request is invalid; the message names the item and the field."""
