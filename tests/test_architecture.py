"""The architecture holds (docs/architecture.md): the contracts of ``.importlinter`` are kept (the core's layers
point one way, the domain is pure, the app reaches the core over HTTP, ``selfcare_common`` is below both) and
no module of ``backend_stub`` takes part in an import cycle. Imports inside functions count: grimp reads them."""

from __future__ import annotations

from pathlib import Path

from importlinter import configuration
from importlinter.application.use_cases import lint_imports

from bench.architecture import import_cycles

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_are_kept(capsys) -> None:
    configuration.configure()  # what the lint-imports command does first: the readers of .importlinter
    kept = lint_imports(config_filename=str(ROOT / ".importlinter"), cache_dir=None, no_logo=True)
    report = capsys.readouterr().out
    assert kept, report
    assert "4 kept, 0 broken" in report, report  # every contract was read and checked


def test_no_import_cycle_among_the_core_modules() -> None:
    cycles = import_cycles("backend_stub")
    assert cycles == [], "\n".join(f"a cycle among: {', '.join(cycle)}" for cycle in cycles)
