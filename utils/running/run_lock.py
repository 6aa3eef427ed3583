"""One process at a time per folder (a class's checkpoint folder): a lock file that names its holder.

Two processes training the same checkpoints would overwrite each other's checkpoints and double the
training time. The lock file holds the holder's pid, host, start time and command line, so that a
refusal can say who holds it; a lock left by a process that died (SIGKILL, a power cut) on this host
is taken over.
"""

import atexit
import json
import os
import socket
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

LOCK_FILE = "run.lock"

# Lock paths this process holds, with how many RunLock objects hold each: several experiments of one
# process may share a run folder, and the file goes when the last of them lets go.
_held = Counter()


class RunLocked(RuntimeError):
    """Another live process holds the run folder's lock."""


def _this_process() -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%d %H:%M:%S %z"), "command": " ".join(sys.argv)}


def _holder(path: Path) -> dict | None:
    """The lock file's holder; None if the file is gone, {} if it cannot be read."""
    try:
        holder = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


class RunLock:
    """The lock of one run folder, taken at the first acquire() and kept until release() or the process's end."""

    def __init__(self, folder):
        self.path = Path(folder) / LOCK_FILE
        self.held = False

    def acquire(self):
        """Take the lock (again: a no-op); raises RunLocked, naming the holder, if a live process has it."""
        if self.held:
            return
        key = str(self.path.resolve())
        if not _held[key]:
            self._create()
        _held[key] += 1
        self.held = True
        atexit.register(self.release)

    def release(self):
        if not self.held:
            return
        self.held = False
        atexit.unregister(self.release)
        key = str(self.path.resolve())
        _held[key] -= 1
        if not _held[key]:
            del _held[key]
            holder = _holder(self.path)
            # A forked child inherits the atexit hook, but not the lock.
            if holder is not None and holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
                self.path.unlink(missing_ok=True)

    def _create(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = _this_process()
        # Linking a complete file is as exclusive as O_CREAT | O_EXCL, and nobody ever reads a half-written lock.
        temporary = self.path.with_name(f".{LOCK_FILE}.{uuid.uuid4().hex}.tmp")
        temporary.write_text(json.dumps(me) + "\n")
        try:
            while True:
                try:
                    os.link(temporary, self.path)
                    return
                except FileExistsError:
                    pass
                holder = _holder(self.path)
                if holder is None:
                    continue
                pid = holder.get("pid")
                # A process on another host cannot be checked; a pid of ours here is a reused one.
                if (holder.get("host") != me["host"] or not isinstance(pid, int)
                        or (pid != me["pid"] and _is_alive(pid))):
                    raise RunLocked(self._held_message(holder))
                print(f"warning: taking over {self.path} from process {holder['pid']} on {holder['host']} "
                      f"(since {holder.get('since')}), which is no longer running", flush=True)
                self.path.unlink(missing_ok=True)
        finally:
            temporary.unlink(missing_ok=True)

    def _held_message(self, holder: dict) -> str:
        who = (f"process {holder['pid']} on {holder.get('host')} since {holder.get('since')} "
               f"(command: {holder.get('command')})" if "pid" in holder
               else "an unknown process (its lock file cannot be read)")
        return (f"{self.path.parent} is in use by {who}; wait for it to finish, or if it is no longer running, "
                f"delete {self.path} and run again")
