"""The project's shape, enforced: the engine imports neither the flows nor the simulators, and
every status is spelled once, in bot.status."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from bot.status import Status

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "bot"
SITE_PACKAGES = ("flows", "sim", "schoolfiles")


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__" and node.args \
                and isinstance(node.args[0], ast.Constant):
            names.add(str(node.args[0].value))
    return names


def test_the_engine_imports_no_flow_no_simulator_no_school_file_reader():
    offenders = {}
    for path in ENGINE.rglob("*.py"):
        if path.name == "__main__.py" and path.parent == ENGINE:
            continue   # the composition root
        bad = sorted(name for name in imported_modules(path) if name.split(".")[0] in SITE_PACKAGES)
        if bad:
            offenders[str(path.relative_to(ROOT))] = bad
    assert offenders == {}


def test_importing_the_engine_loads_no_flow_and_no_simulator():
    # The static check above misses an import hidden behind a string; loading every engine
    # module in a fresh interpreter does not.
    modules = sorted(f"bot.{path.stem}" for path in ENGINE.glob("*.py") if path.stem not in ("__init__", "__main__"))
    code = ("import importlib, sys\n"
            f"for name in {modules!r}: importlib.import_module(name)\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'flows', 'sim', 'schoolfiles', 'flask'}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_no_status_is_spelled_outside_bot_status():
    spelled = {status.value for status in Status}
    offenders = []
    for package in ("bot", "flows", "schoolfiles"):
        for path in (ROOT / package).rglob("*.py"):
            if path == ENGINE / "status.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and node.value in spelled:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    for path in (ENGINE / "templates").glob("*.html"):
        for status in spelled:
            for quote in ("'", '"'):
                if f"{quote}{status}{quote}" in path.read_text(encoding="utf-8"):
                    offenders.append(f"{path.relative_to(ROOT)} {quote}{status}{quote}")
    assert offenders == []


def test_flask_is_not_needed_by_a_production_install():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    dependencies = text[text.index("dependencies = ["):text.index("]", text.index("dependencies = ["))]
    assert "flask" not in dependencies.lower()


def test_an_ent_family_is_a_folder_under_flows_ent_with_its_page_object_and_label_pack():
    from flows.ent.families import EntPages, ent_families

    families = ent_families()
    assert set(families) == {"esup_montpellier"}
    wanted = {name for name in vars(EntPages) if not name.startswith("_")} - {"page"}
    for name, family in families.items():
        assert family.labels_path.parent == Path(__file__).resolve().parents[1] / "flows" / "ent" / name
        assert wanted <= set(dir(family.pages)), name
        assert family.labels()["login"]["username"]
