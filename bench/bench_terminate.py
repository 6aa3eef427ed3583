"""How long a training run takes to save and exit after SIGTERM (a scheduler's grace period is often 30 s).

Starts main.py, waits until it has logged `--after` iteration lines (so the compiled loop is running),
then `--delay` seconds, sends SIGTERM and prints the seconds until the "interrupted" line (the checkpoint is saved by then) and
until the process has exited, with its exit code and the iteration it saved.

    python bench/bench_terminate.py --width 8 --iterations 20000 --repeats 3 -- --no_xla
"""

import argparse
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def one_run(flags: list[str], after_lines: int, delay: float) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "main.py", "--dataset", "digits", "--train_object", "0", "--results_dir",
                   f"{folder}/results", "--checkpoint_dir", f"{folder}/checkpoints", *flags]
        process = subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, bufsize=1)
        lines, interrupted_at, sent_at = [], None, None
        for line in process.stdout:
            lines.append(line)
            if sent_at is None and sum(line.startswith("iteration ") for line in lines) >= after_lines:
                # Into the middle of a compiled call of several steps, not the gap between two calls.
                time.sleep(delay)
                sent_at = time.perf_counter()
                process.send_signal(signal.SIGTERM)
            elif sent_at is not None and interrupted_at is None and "interrupted" in line:
                interrupted_at = time.perf_counter()
        code = process.wait()
        exited_at = time.perf_counter()
        saved = sorted(int(path.name.split("-")[1].split(".")[0])
                       for path in Path(folder, "checkpoints").glob("digits/*/0_0/ckpt-*.index"))
    if sent_at is None:
        raise RuntimeError("the run ended before SIGTERM was sent:\n" + "".join(lines[-20:]))
    last_logged = max(int(match.group(1)) for line in lines if (match := re.match(r"iteration (\d+)/", line)))
    return {"to_save": None if interrupted_at is None else interrupted_at - sent_at, "to_exit": exited_at - sent_at,
            "exit_code": code, "saved_iteration": saved[-1] if saved else None, "last_logged": last_logged}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", default="8")
    parser.add_argument("--iterations", default="20000")
    parser.add_argument("--after", type=int, default=1, help="iteration lines to wait for before SIGTERM")
    parser.add_argument("--delay", type=float, default=2.0, help="seconds from that line to SIGTERM")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="more main.py flags, after --")
    arguments = parser.parse_args()
    flags = ["--width", arguments.width, "--iterations", arguments.iterations, *arguments.extra]
    print(f"main.py --dataset digits --train_object 0 {' '.join(flags)}; SIGTERM {arguments.delay:g} s after "
          f"{arguments.after} iteration line(s)")
    for _ in range(arguments.repeats):
        result = one_run(flags, arguments.after, arguments.delay)
        to_save = "never" if result["to_save"] is None else f"{result['to_save']:.1f} s"
        print(f"SIGTERM to saved: {to_save}, to exit: {result['to_exit']:.1f} s (exit code {result['exit_code']}; "
              f"last logged iteration {result['last_logged']}, checkpoint at {result['saved_iteration']})")


if __name__ == "__main__":
    main()
