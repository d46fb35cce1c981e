"""The sensing interfaces (defined in ``companion.core.sensing``), under the name the OS
sources and their tests use."""

from companion.core.sensing import FocusSource, InputSource, LockSource, NoLockSensing

__all__ = ["FocusSource", "InputSource", "LockSource", "NoLockSensing"]
