"""The base error every layer raises for input a user can fix."""


class GongpeiError(Exception):
    """Bad input or an impossible request, explained in one line that names the item and field.

    Every layer derives its own typed errors from this one so that the CLI and the HTTP API can
    show the message as it is (one readable line, no traceback) and everything else as a bug.
    """
