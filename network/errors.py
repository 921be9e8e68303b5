"""The base error every layer raises for input a user can fix, and the layer's typed errors."""

from numbers import Real


class GongpeiError(Exception):
    """Bad input or an impossible request, explained in one line that names the item and field.

    Every layer derives its own typed errors from this one so that the CLI and the HTTP API can
    show the message as it is (one readable line, no traceback) and everything else as a bug.
    """


class NetworkError(GongpeiError):
    """Base of the road-network layer's errors (network/)."""


class OsmFileError(NetworkError):
    """An OSM source that is missing, truncated, or not OSM data at all."""


class NoRoadsError(NetworkError):
    """The chosen area holds no road the travel profile may use."""


class AreaError(NetworkError):
    """A bounding box or polygon that is malformed or lies outside the data."""


class ProfileError(NetworkError):
    """An unknown travel profile or a bad speed override."""


class SnapError(NetworkError):
    """A point that cannot be placed on the road network (NaN, off the map, too far from a road)."""


class BuiltGraphError(NetworkError):
    """A built-graph folder or a points file that is missing or unreadable."""


def is_number(value: object) -> bool:
    """Whether a user-given value is a real number (numpy's too) and not a bool: Python counts
    True as 1, which would quietly turn a flag into 1 km/h or 1 m."""
    return isinstance(value, Real) and not isinstance(value, bool)
