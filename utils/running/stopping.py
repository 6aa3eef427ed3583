"""SIGTERM (a scheduler's time limit, scancel, kill) and Ctrl-C: training stops at the next step, the rest
of a run at once.

Python runs a signal handler only between the main thread's bytecodes, so a handler alone would wait for
the compiled call of several training steps under way, tens of seconds at the paper's width. The signal
also wakes a thread (signal.set_wakeup_fd), which tells the training loop at once, so that the call ends
after the step it is in (training.until_stopped).
"""

import contextlib
import os
import signal
import threading
from collections.abc import Callable

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

_requested = threading.Event()
# What the training loop under way does on a stop request (from the waking thread); none outside training.
_listeners: list[Callable[[], None]] = []
_watching = False


def stop_requested() -> bool:
    return _requested.is_set()


@contextlib.contextmanager
def stoppable(on_request: Callable[[], None]):
    """Within it a stop signal calls on_request (maybe from another thread) and sets stop_requested() instead of
    raising KeyboardInterrupt: the training loop stops itself at the next step and saves."""
    _requested.clear()
    _listeners.append(on_request)
    try:
        yield
    finally:
        _listeners.remove(on_request)


def _request_stop():
    if _listeners:
        _requested.set()
        for listener in list(_listeners):
            listener()


def _on_signal(signum, frame):
    if _listeners:
        _request_stop()
    else:
        raise KeyboardInterrupt


def _watch(descriptor: int):
    while True:
        if any(signum in STOP_SIGNALS for signum in os.read(descriptor, 64)):
            _request_stop()


def stop_on_signals():
    """Install the stop signals' handler (from the main thread); the waking thread is started once per process."""
    global _watching
    for signum in STOP_SIGNALS:
        signal.signal(signum, _on_signal)
    if not _watching:
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, False)
        signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
        threading.Thread(target=_watch, args=(read_end,), name="stop-signal-watch", daemon=True).start()
        _watching = True
