"""The one exception type for bad input."""


class InputError(Exception):
    """A raw or intermediate file is truncated, mislabelled or inconsistent.

    The message always starts with the offending path and says what is wrong,
    e.g. ``InputError("session01/181105_Block1.nev: packets out of time order at 12")``.
    """
