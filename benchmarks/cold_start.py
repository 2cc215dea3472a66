"""Cold CLI commands: each one a fresh `python -m convergenze.cli` process, this code against a baseline commit.

The baseline is checked out in a temporary `git worktree` and run with PYTHONPATH pointing at it, so both run
with the same interpreter, packages, index (CONVERGENZE_DATA) and models (CONVERGENZE_MODELS), in one run:
rounds alternate baseline and new (the order swapped every round), so machine load falls on both alike. Each
side first runs every command once untimed (the OS file cache; the compiled-model cache this code keeps in the
models directory). Prints p50 wall and CPU seconds (user + system of the child) per command and the ratios,
and whether both sides printed the same results (`--json`).

    CONVERGENZE_DATA=... CONVERGENZE_MODELS=... python benchmarks/cold_start.py [--baseline 56b8ab3] [--rounds 5]
        [--commands "search hybrid" ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from convergenze.core.settings import DataSettings

ROOT = Path(__file__).resolve().parents[1]
QUERY = "energia rinnovabile per le imprese"
PROJECT = (
    "Il nostro comune vuole installare impianti fotovoltaici sulle scuole, con una comunità energetica "
    "rinnovabile aperta alle famiglie e alle imprese locali."
)
COMMANDS: dict[str, list[str]] = {
    "search hybrid": ["search", QUERY, "--json"],
    "search BM25-only": ["search", QUERY, "--mode", "sparse", "--json"],
    "match": ["match", PROJECT, "--json"],
    "search --help": ["search", "--help"],
}


def run(code: Path, args: list[str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system) and standard output of one cold command."""
    # The mirror is found beside the project's root by default: a baseline checked out in a temporary directory
    # has none there, and without it match labels missions without the mirror's examples (another output).
    env = {**os.environ, "PYTHONPATH": str(code), "HF_HUB_OFFLINE": "1",
           "CONVERGENZE_CORPORA": str(DataSettings().corpora_dir)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "convergenze.cli", *args], cwd=code, env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed in {code} (exit {done.returncode}):\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="56b8ab3", help="the commit to compare with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--commands", nargs="+", choices=list(COMMANDS), default=list(COMMANDS),
                        help="a subset of the commands")
    args = parser.parse_args()
    commands = {name: COMMANDS[name] for name in args.commands}
    if not os.environ.get("CONVERGENZE_DATA"):
        raise SystemExit("set CONVERGENZE_DATA to a data directory with an index (convergenze ingest --limit 25)")

    with tempfile.TemporaryDirectory(prefix="cold-start-") as tmp:
        baseline = Path(tmp) / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(baseline),
                        args.baseline], check=True)
        try:
            sides = {"baseline": baseline, "new": ROOT}
            outputs: dict[tuple[str, str], str] = {}
            for side, code in sides.items():  # untimed: file cache, compiled-model cache
                for name, command in commands.items():
                    outputs[(side, name)] = run(code, command)[2]
            walls: dict[tuple[str, str], list[float]] = {}
            cpus: dict[tuple[str, str], list[float]] = {}
            for round_ in range(args.rounds):
                order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
                for name, command in commands.items():
                    for side in order:
                        wall, cpu, _ = run(sides[side], command)
                        walls.setdefault((side, name), []).append(wall)
                        cpus.setdefault((side, name), []).append(cpu)
                print(f"round {round_ + 1}/{args.rounds} done (load average {os.getloadavg()[0]:.1f})", flush=True)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(baseline)], check=False)

    print(f"\ncold CLI, p50 of {args.rounds} rounds, baseline {args.baseline} vs this code "
          f"(load average {os.getloadavg()[0]:.1f}):")
    print(f"{'command':18} {'wall base':>10} {'wall new':>9} {'ratio':>6}   {'CPU base':>9} {'CPU new':>8} {'ratio':>6}"
          "  same output")
    for name in commands:
        wb, wn = (statistics.median(walls[(s, name)]) for s in ("baseline", "new"))
        cb, cn = (statistics.median(cpus[(s, name)]) for s in ("baseline", "new"))
        same = outputs[("baseline", name)] == outputs[("new", name)]
        print(f"{name:18} {wb:9.2f}s {wn:8.2f}s {wb / wn:5.2f}x   {cb:8.2f}s {cn:7.2f}s {cb / cn:5.2f}x  {same}")


if __name__ == "__main__":
    main()
