"""The ``harness`` command line: init, run, validate, plugins, leaderboard, regress, compare, export, tasks."""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from pathlib import Path
from typing import Any

from harness import __version__
from harness.errors import HarnessError, SpecError
from harness.precision import PRECISIONS

#: output formats of validate, plugins and compare
FORMATS = ("text", "json")
COMMANDS = ("init", "run", "validate", "plugins", "leaderboard", "regress", "compare", "export", "tasks")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness", description="Benchmark PEFT domain adaptation of LLMs (Mexican federal law first)."
    )
    parser.add_argument("--version", action="version", version=f"harness {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks for expected errors too")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = sub.add_parser("init", help="write the starter specs (smoke.yaml, mx_legal.yaml) into a folder")
    init.add_argument("dir", nargs="?", type=Path, default=Path("."), help="target folder (default: .)")
    init.add_argument("--force", action="store_true", help="overwrite existing spec files")

    run = sub.add_parser("run", help="run a benchmark spec; unchanged stages come from cache")
    run.add_argument("spec", type=Path)
    run.add_argument("--profile", default="auto", help="auto (default: gpu if CUDA is present), cpu or gpu")
    run.add_argument("--out", type=Path, default=Path("runs"), help="runs folder (default: runs)")
    run.add_argument(
        "--only", nargs="+", default=[], metavar="STAGE", help="run only these stages (and what they need)"
    )
    run.add_argument("--systems", nargs="+", default=None, metavar="SYSTEM", help="evaluate only these systems")
    run.add_argument("--limit", type=int, default=None, help="evaluate at most N items per task")
    run.add_argument("--force", nargs="+", default=[], metavar="STAGE", help="recompute these stages even if cached")
    run.add_argument("--run-id", default=None, help="run folder name (default: UTC timestamp)")
    run.add_argument("--cache", type=Path, default=None, help="stage cache (default: OUT/.cache)")
    run.add_argument("--precision", default=None, choices=PRECISIONS, help="override the spec's precision")

    validate = sub.add_parser("validate", help="check a spec and that every named component exists")
    validate.add_argument("spec", type=Path)
    validate.add_argument("--profile", default="auto")
    validate.add_argument("--precision", default=None, choices=PRECISIONS)
    validate.add_argument("--format", default="text", choices=FORMATS, help="text (default) or json")

    plugins = sub.add_parser("plugins", help="table of loaded plugins and their components")
    plugins.add_argument("--hook", default=None, help="only plugins implementing this hook")
    plugins.add_argument("--format", default="text", choices=FORMATS, help="text (default) or json")

    board = sub.add_parser("leaderboard", help="aggregate one or many runs into a leaderboard")
    board.add_argument("runs", nargs="+", type=Path)
    board.add_argument("--format", default="terminal", help="terminal, md, csv, html, json or any report plugin")
    board.add_argument("--output", type=Path, default=None)

    regress = sub.add_parser("regress", help="evaluate an adapter and gate it against the baseline")
    regress.add_argument("spec", type=Path)
    regress.add_argument("--adapter", action="append", required=True, metavar="NAME=PATH")
    regress.add_argument("--baseline", default=None, help="a system of the spec or a results JSON")
    regress.add_argument("--profile", default="auto")
    regress.add_argument("--out", type=Path, default=Path("runs"))
    regress.add_argument("--limit", type=int, default=None)
    regress.add_argument(
        "--on",
        default=None,
        metavar="SYSTEM",
        help="stack each candidate on this system's adapters (e.g. base+dapt: a new SFT adapter on the shipped DAPT one)",
    )

    comp = sub.add_parser("compare", help="paired comparisons between systems of a finished run")
    comp.add_argument("run", type=Path, help="a run folder (runs/<benchmark>/<run-id>)")
    comp.add_argument("--baseline", default=None, help="the system the others are compared with")
    comp.add_argument("--candidate", action="append", default=None, help="a system to compare (default: all)")
    comp.add_argument(
        "--against",
        type=Path,
        default=None,
        metavar="RUN",
        help="pair each system with the same system of another run (e.g. the spec run with --precision bf16)",
    )
    comp.add_argument("--format", default="text", choices=FORMATS, help="text (default) or json")

    export = sub.add_parser("export", help="write a system of a finished run as a folder plain transformers/PEFT load")
    export.add_argument("run", type=Path, help="a run folder (runs/<benchmark>/<run-id>)")
    export.add_argument("system", help="a system of the run (base+dapt+sft …)")
    export.add_argument("dir", type=Path, help="the folder to write (new or empty)")
    export.add_argument(
        "--merged", action="store_true", help="merge the adapters into the base weights (default: adapter folders)"
    )

    tasks = sub.add_parser("tasks", help="build the frozen evaluation task data, or print its model-free baselines")
    tasks.add_argument("action", choices=["build", "baselines"])
    tasks.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``harness`` script; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    warnings.showwarning = _show_warning
    try:
        return int(_dispatch(args) or 0)
    except HarnessError as exc:
        if args.debug:
            raise
        print(f"harness: error: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("harness: interrupted; finished stages are cached, rerun the same command to resume", file=sys.stderr)
        return 130


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
    print(f"harness: warning: {message}", file=sys.stderr)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "init":
        from harness.examples import init_specs

        for path in init_specs(args.dir, args.force):
            print(f"wrote {path}")
        print(f"next: harness run {args.dir / 'smoke.yaml'}  (minutes, a tiny model), or {args.dir / 'mx_legal.yaml'}")
        return 0
    if args.command == "run":
        return _cmd_run(args)
    if args.command == "validate":
        return _cmd_validate(args)
    if args.command == "plugins":
        return _cmd_plugins(args)
    if args.command == "leaderboard":
        return _cmd_leaderboard(args)
    if args.command == "regress":
        return _cmd_regress(args)
    if args.command == "compare":
        from harness.regress.cli import compare_runs, compare_systems

        quiet = args.format == "json"
        if args.against is not None:
            systems = [args.baseline] if args.baseline else []
            reports = compare_runs(
                args.run, args.against, [*systems, *(args.candidate or [])] or None, render=not quiet
            )
        elif args.baseline is None:
            raise SpecError("compare needs --baseline SYSTEM, or --against RUN", field="--baseline")
        else:
            reports = compare_systems(args.run, args.baseline, args.candidate, render=not quiet)
        if quiet:
            _print_json({"run": str(args.run), "comparisons": [r.to_dict() for r in reports]})
        return 0
    if args.command == "export":
        from harness.exporter import EXPORT_FILE, export_system

        folder = export_system(args.run, args.system, args.dir, args.merged)
        print(f"wrote {folder} (load recipe in {folder / 'README.md'} and {folder / EXPORT_FILE})")
        return 0
    if args.action == "baselines":
        from harness.evaluation.baselines_cli import main as tasks_baselines

        return tasks_baselines(args.rest)
    from harness.evaluation.build_cli import main as tasks_build

    return tasks_build(args.rest)


def _cmd_run(args: argparse.Namespace) -> int:
    from harness.runner.run import RunOptions, run_pipeline

    options = RunOptions(
        profile=args.profile,
        out=args.out,
        only=args.only,
        systems=args.systems,
        limit=args.limit,
        force=args.force,
        run_id=args.run_id,
        cache=args.cache,
        precision=args.precision,
    )
    result = run_pipeline(args.spec, options)
    from harness.report import finish_run

    return finish_run(result)


def _cmd_validate(args: argparse.Namespace) -> int:
    from harness.plugins import load_registry
    from harness.spec.load import load_spec

    if args.format == "json":
        return _validate_json(args)
    loaded = load_spec(args.spec, args.profile, load_registry(), precision=args.precision)
    print(
        f"{args.spec}: ok (profile {loaded.profile}: {loaded.profile_reason}; precision {loaded.precision.describe()})"
    )
    return 0


def _print_json(data: Any) -> None:
    import json

    print(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True))


def _validate_json(args: argparse.Namespace) -> int:
    """``validate --format json``: the resolved profile, precision, adapters and systems, or the
    errors (each with file, line and field), on stdout; the exit code as for text."""
    from harness.plugins import load_registry
    from harness.spec.load import SpecErrors, load_spec

    try:
        loaded = load_spec(args.spec, args.profile, load_registry(), precision=args.precision)
    except HarnessError as exc:
        errors = exc.errors if isinstance(exc, SpecErrors) else [exc]
        _print_json(
            {
                "spec": str(args.spec),
                "ok": False,
                "errors": [
                    {"message": e.message, "file": e.file, "line": e.line, "field": e.field, "text": e.one_line()}
                    for e in errors
                ],
            }
        )
        return exc.exit_code
    adapters = loaded.plan.adapters
    _print_json(
        {
            "spec": str(args.spec),
            "ok": True,
            "name": loaded.spec.name,
            "profile": loaded.profile,
            "profile_reason": loaded.profile_reason,
            "precision": loaded.precision.describe(),
            "adapters": [
                {
                    "name": a.name,
                    "role": a.role,
                    "trainer": a.trainer,
                    "method": a.method,
                    "parent": a.parent,
                    "parent_trainable": a.parent_trainable,
                    # as trained: defaults filled in where the harness trains
                    "method_options": a.options,
                    "hyperparameters": a.settings,
                    "budget": a.budget,
                }
                for a in adapters
            ],
            "systems": [
                {"name": s.name, "adapters": s.adapters, "prompt_format": s.prompt_format} for s in loaded.plan.systems
            ],
        }
    )
    return 0


def _cmd_plugins(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from harness.plugins import FAMILIES, build_registry, get_plugin_manager

    pm = get_plugin_manager()
    registry = build_registry(pm)
    hooked = None
    if args.hook:
        caller = getattr(pm.hook, args.hook, None)
        if caller is None:
            from harness.errors import SpecError

            raise SpecError(
                f"unknown hook {args.hook!r}; hooks: {', '.join(sorted(h for h in dir(pm.hook) if not h.startswith('_')))}",
                field="--hook",
            )
        hooked = {impl.plugin_name for impl in caller.get_hookimpls()}
    if args.format == "json":
        _print_json(_plugins_json(registry, hooked))
        return 0
    table = Table(title="harness plugins")
    for column in ("plugin", "version", "origin", "distribution", "family"):
        table.add_column(column, no_wrap=True)
    table.add_column("components", overflow="fold")
    for info in registry.plugins:
        if hooked is not None and info.name not in hooked:
            continue
        rows = []
        for family in FAMILIES:
            names = sorted(n for n, r in registry.components.get(family, {}).items() if r.plugin == info.name)
            if names:
                rows.append((family, ", ".join(names)))
        for i, (family, names) in enumerate(rows or [("-", "-")]):
            head = (info.name, info.version, info.origin, info.distribution) if i == 0 else ("", "", "", "")
            table.add_row(*head, f"{family}:" if family != "-" else "-", names)
    for broken in registry.broken:
        table.add_row(broken.name, "-", "entry point (FAILED)", broken.distribution, "-", broken.error)
    for (family, name), clash in sorted(registry.collisions.items()):
        who = ", ".join(f"{r.plugin} ({r.distribution})" for r in clash)
        table.add_row(
            "(collision)", "-", "-", "-", f"{family}:", f"{name!r} registered by {who}; a spec naming it fails"
        )
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 160))
    console.print(table)
    return 0


def _plugins_json(registry: Any, hooked: set[str] | None) -> dict[str, Any]:
    from harness.plugins import FAMILIES

    plugins = []
    for info in registry.plugins:
        if hooked is not None and info.name not in hooked:
            continue
        components = {
            family: sorted(n for n, r in registry.components.get(family, {}).items() if r.plugin == info.name)
            for family in FAMILIES
        }
        plugins.append(
            {
                "plugin": info.name,
                "version": info.version,
                "origin": info.origin,
                "distribution": info.distribution,
                "components": {k: v for k, v in components.items() if v},
            }
        )
    return {
        "plugins": plugins,
        "broken": [{"plugin": b.name, "distribution": b.distribution, "error": b.error} for b in registry.broken],
        "collisions": [
            {"family": family, "name": name, "plugins": [r.plugin for r in clash]}
            for (family, name), clash in sorted(registry.collisions.items())
        ],
    }


def _cmd_leaderboard(args: argparse.Namespace) -> int:
    from harness.report import leaderboard_command

    return leaderboard_command(args.runs, args.format, args.output)


def _cmd_regress(args: argparse.Namespace) -> int:
    from harness.errors import SpecError

    adapters = {}
    for item in args.adapter:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise SpecError(f"expected NAME=PATH, got {item!r}", field="--adapter")
        adapters[name] = Path(path)
    from harness.regress.cli import regress

    return regress(args.spec, adapters, args.baseline, args.profile, args.out, args.limit, on=args.on)


if __name__ == "__main__":
    sys.exit(main())
