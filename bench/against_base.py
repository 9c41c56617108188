"""Issue 14's targets read against the code the issue measured, both run here, in turns.

The issue's figures ("now") were measured on the machine of its day, and its targets are those
figures made smaller or larger (a 1 km canvass page from 39 ms to under 15 ms, six clients'
landing pages from 199 to over 600 a second). Machines of this kind have differed by a factor of
two from one day to the next and swing by a third within minutes (docs/benchmarks.md, issue 14
ninth pass), so a figure read alone says as much about the minute as about the code. This script
runs the issue's own code (the base: main where issue 14's work began, 652f8f2) and main with
the same benches, one after the other, for `--rounds` rounds, and reads each target as the
ratio it asks for: main's figure over the base's, in the same round, against the target over
the issue's "now". Beside it, the target at this machine's speed: the target times the base's
figure here over the issue's "now".

    .venv/bin/python manage.py collectstatic --noinput -v 0
    .venv/bin/python bench/against_base.py                  # two rounds, about 20 minutes
    .venv/bin/python bench/against_base.py --rounds 1 --keep /tmp/against-base

The base runs in a git worktree (a temporary directory) on the project's embedded PostgreSQL
(its own throwaway databases) and virtual environment, with the project's editable install
hidden from it: setuptools' finder would otherwise import main's modules wherever the base has
none (its migrations, for one). The base is measured by its own bench/canvass.py (the canvass
pages, the distance search, notifying 5,000 owners) and bench/imports.py (through
bench/imports_at_base.py, which gives it its database the way the base's other benches make
theirs); its throughput by bench/pages_at_base.py, copied into the worktree with bench/pages.py
and bench/benchlib.py (the base had no such bench). Main is measured by bench/canvass.py
--only canvass, bench/pages.py, bench/imports.py and bench/notify.py. Each bench's whole output
is kept with --keep.

Targets without a figure in the issue's "now" column (the 300,000-site city, the map data, the
100,000-row import, which failed) and `platform_setup` (the base has no bench of it; main's
bench/migrations.py measures the previous way in the same run) are read by their own benches.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE = "652f8f2"  # main when issue 14's work began (the merge base of its first branch)
PYTHON = ROOT / ".venv" / "bin" / "python"
# What hides the project's editable install from the base's processes (and their gunicorn).
HIDE_EDITABLE = (
    "import sys\n"
    "sys.meta_path[:] = [f for f in sys.meta_path if '_EditableFinder' not in repr(f)]\n"
)


@dataclass(frozen=True)
class Target:
    key: str
    path: str
    now: float  # the figure, on the machine of its day
    target: float
    higher_is_better: bool = False

    @property
    def asked(self) -> float:
        """The ratio the target asks for: target / now."""
        return self.target / self.now


TARGETS = (
    Target("page_1km", "canvass page, 1 km, p95 ms", 39, 15),
    Target("page_5km", "canvass page, 5 km, p95 ms", 560, 60),
    Target(
        "search_1km", "the canvass's distance search at 1 km, as Python objects, p95 ms", 4.2, 1
    ),
    Target("import_30k", "import 30,000 rows, checked and committed, s", 20.6, 4),
    Target("landing_6", "landing page, 6 clients, req/s", 199, 600, higher_is_better=True),
    Target("canvass_6", "canvass page 1 km, 6 clients, req/s", 53, 150, higher_is_better=True),
    Target("notify_5000", "notify 5,000 owners through the queue, s", 2.1, 1),
)


def number(pattern: str, text: str, group: int = 1) -> float | None:
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(group).replace(",", "")) if found else None


def base_figures(canvass: str, pages: str, imports: str) -> dict[str, float | None]:
    """The base's benches' outputs read: its canvass table (selector p50, p95, full scan,
    ratio, page p50, p95), its notices' line, its pages' rows (a connection per request: the
    base's deployment default) and its import's check + commit."""
    row = (
        r"^\| {radius} m \| [\d,]+ \| ([\d.]+) \| ([\d.]+) \| [\d.]+ \| \d+x \| "
        r"([\d.]+) \| ([\d.]+) \|"
    )
    return {
        "page_1km": number(row.format(radius=1000), canvass, 4),
        "page_5km": number(row.format(radius=5000), canvass, 4),
        "search_1km": number(row.format(radius=1000), canvass, 2),
        "notify_5000": number(
            r"^Notifying [\d,]+ owners through the queue [^:]*: ([\d.]+) s", canvass
        ),
        "landing_6": number(r"^\| landing page \| base, DB_CONN_MAX_AGE=0 \| (\d+) \|", pages),
        "canvass_6": number(
            r"^\| canvass page, 1 km \| base, DB_CONN_MAX_AGE=0 \| (\d+) \|", pages
        ),
        "import_30k": number(r"^\| check \+ commit \| ([\d.]+) \|", imports),
    }


def main_figures(canvass: str, pages: str, imports: str, notify: str) -> dict[str, float | None]:
    """Main's benches' outputs read: the canvass table's p95s, the canvass's own kept read of the
    distance search (canvass_rows, as CanvassSite objects), the pages' rows with the
    deployment's defaults, the import's check + commit and the notices through the queue."""
    row = (
        r"^\| {radius} m \| [\d,]+ \| [\d.]+ / [\d.]+ \| [\d.]+ \| [\d.]+x \| [\d.]+ / ([\d.]+) \|"
    )
    defaults = r"persistent, host cache 5 s, landing kept 30 s"
    return {
        "page_1km": number(row.format(radius=1000), canvass),
        "page_5km": number(row.format(radius=5000), canvass),
        "search_1km": number(
            r"^\| the same search kept compiled and prepared[^|]*\| [\d.]+ \| ([\d.]+) \|", canvass
        ),
        "search_1km_queryset": number(
            r"^\| the whole \(`sites_near`, as Site objects\) \| [\d.]+ \| ([\d.]+) \|", canvass
        ),
        "landing_6": number(rf"^\| landing page \| {defaults} \| (\d+) \|", pages),
        "canvass_6": number(rf"^\| canvass page, 1 km[^|]*\| {defaults} \| (\d+) \|", pages),
        "import_30k": number(r"^\| check \+ commit \| ([\d.]+) \|", imports),
        "notify_5000": number(r"^\| through the queue[^|]*\| ([\d.]+) \|", notify),
    }


class Worktree:
    """The base checked out beside the project, for the length of a with-block."""

    def __init__(self, commit: str) -> None:
        self.commit = commit
        self.path = Path(tempfile.mkdtemp(prefix="canvass-base-"))
        self.hide = self.path / ".hide-editable"

    def __enter__(self) -> Worktree:
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--force", str(self.path), self.commit],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        (self.path / ".data").mkdir()
        # The project's embedded server: the base's throwaway databases live beside main's.
        (self.path / ".data" / "pg").symlink_to(ROOT / ".data" / "pg")
        for name in ("pages.py", "benchlib.py", "pages_at_base.py", "imports_at_base.py"):
            shutil.copy(ROOT / "bench" / name, self.path / "bench" / name)
        self.hide.mkdir()
        (self.hide / "sitecustomize.py").write_text(HIDE_EDITABLE)
        self.run(["manage.py", "collectstatic", "--noinput", "-v", "0"])
        return self

    def environment(self) -> dict[str, str]:
        return os.environ | {"PYTHONPATH": str(self.hide)}

    def run(self, arguments: list[str], **extra: str) -> str:
        done = subprocess.run(
            [str(PYTHON), *arguments],
            cwd=self.path,
            env=self.environment() | extra,
            capture_output=True,
            text=True,
            check=False,
        )
        return done.stdout + done.stderr

    def __exit__(self, *exc: object) -> None:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(self.path)],
            cwd=ROOT,
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.path, ignore_errors=True)


def run_main(arguments: list[str]) -> str:
    done = subprocess.run(
        [str(PYTHON), *arguments], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return done.stdout + done.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=BASE, help="the issue's code (a commit)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=6, help="each path of the pages runs")
    parser.add_argument("--keep", metavar="DIR", help="keep each bench's output in DIR")
    arguments = parser.parse_args()
    # Stopped by a signal, the worktree is still removed (the with-block's exit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    if not (ROOT / ".data" / "static" / "portal" / "portal.css").exists():
        sys.exit("Run `manage.py collectstatic --noinput` first: WhiteNoise serves .data/static.")
    keep = Path(arguments.keep) if arguments.keep else None
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
    seconds = str(arguments.seconds)
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    load_before = os.getloadavg()
    rounds: list[tuple[dict[str, float | None], dict[str, float | None], str]] = []
    with Worktree(arguments.base) as base:
        for number_ in range(1, arguments.rounds + 1):
            outputs: dict[str, str] = {}
            steps = (
                (
                    "base-canvass",
                    lambda: base.run(["bench/canvass.py", "--cities", "1", "--runs", "30"]),
                ),
                (
                    "main-canvass",
                    lambda: run_main(
                        ["bench/canvass.py", "--only", "canvass", "--runs", "30", "--big", "2000"]
                    ),
                ),
                ("base-pages", lambda: base.run(["bench/pages_at_base.py"], SECONDS_EACH=seconds)),
                ("main-pages", lambda: run_main(["bench/pages.py", "--seconds", seconds])),
                ("base-imports", lambda: base.run(["bench/imports_at_base.py"])),
                ("main-imports", lambda: run_main(["bench/imports.py"])),
                ("main-notify", lambda: run_main(["bench/notify.py", "--pool", "prefork"])),
            )
            for name, step in steps:
                load = " ".join(f"{value:.2f}" for value in os.getloadavg())
                print(
                    f"round {number_}: {name} ({time.strftime('%H:%M:%S')}, load {load})",
                    file=sys.stderr,
                )
                outputs[name] = step()
                if keep:
                    (keep / f"{name}-{number_}.txt").write_text(outputs[name])
            rounds.append(
                (
                    base_figures(
                        outputs["base-canvass"], outputs["base-pages"], outputs["base-imports"]
                    ),
                    main_figures(
                        outputs["main-canvass"],
                        outputs["main-pages"],
                        outputs["main-imports"],
                        outputs["main-notify"],
                    ),
                    time.strftime("%H:%M"),
                )
            )
    load = os.getloadavg()
    print(
        f"base {arguments.base} against main; {started} to "
        f"{time.strftime('%H:%M:%S UTC', time.gmtime())}; {os.cpu_count()} cores; load average "
        f"{load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} at the start, "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end"
    )
    print(
        "\n| path | the issue's now | target | asked (target / now) | round | base here | "
        "main here | main / base | the target at this machine's speed | met |"
    )
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|---|")
    every_met = True
    for target in TARGETS:
        for number_, (based, mained, ended) in enumerate(rounds, start=1):
            here, ours = based.get(target.key), mained.get(target.key)
            if here is None or ours is None or here == 0:
                print(
                    f"| {target.path} | {target.now:g} | {target.target:g} | "
                    f"{target.asked:.3f} | {number_} | not read | | | | no |"
                )
                every_met = False
                continue
            ratio = ours / here
            met = ratio >= target.asked if target.higher_is_better else ratio <= target.asked
            every_met &= met
            print(
                f"| {target.path} | {target.now:g} | {target.target:g} | {target.asked:.3f} | "
                f"{number_} ({ended}) | {here:g} | {ours:g} | {ratio:.3f} | "
                f"{target.target * here / target.now:.1f} | {'yes' if met else 'no'} |"
            )
    for number_, (based, mained, _ended) in enumerate(rounds, start=1):
        queryset = mained.get("search_1km_queryset")
        if queryset is not None and based.get("search_1km"):
            print(
                f"\nRound {number_}: `sites_near()` itself (the composable queryset, as Site "
                f"objects) p95 {queryset:g} ms, {queryset / based['search_1km']:.3f} of the base's."
            )
    print("\nEvery target met in every round." if every_met else "\nNot every target met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
