"""The structure the house rules ask for, checked on every run: imports run one way (core at the
bottom), only a domain's data.py writes key formats, and nothing deployed imports test tooling."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "chalicelib"
# Lower layers never import higher ones; a domain may import its own layer's peers only if listed.
LAYERS = {
    "core": 0,
    "audit": 1,
    "limits": 1,
    "notifications": 2,
    "accounts": 2,
    "taxonomy": 2,
    "billing": 2,  # plans and entitlements: practice, exams and review check them
    "cohort": 2,  # how everyone answered: written by the pipeline, shown by questions, practice, exams
    "questions": 3,
    "review": 3,  # cards of questions; questions show a card's recall, practice draws due cards
    "resources": 4,
    "pages": 4,
    "exams": 5,
    "practice": 6,
    "analytics": 7,
    "reports": 7,
    "privacy": 8,
    "engagement": 8,
    "plan": 8,
    "remarking": 8,
    "system": 8,
}
KEY_LITERAL = re.compile(r"^[A-Z][A-Z_]*#")
FORBIDDEN_IN_DEPLOYED = ("moto", "tests", "local_stack", "benchmarks", "seeds", "pytest", "hypothesis")


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _builders() -> list[Path]:
    """Code that builds items outside the package: it must use the data layers' factories."""
    roots = [ROOT / "tests", ROOT / "benchmarks", ROOT / "seeds", ROOT / "local_stack"]
    found = [p for root in roots for p in root.rglob("*.py") if "__pycache__" not in p.parts]
    return sorted(p for p in found if p != Path(__file__).resolve())


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found


def test_every_domain_has_a_layer():
    domains = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert domains == set(LAYERS)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_one_way(path):
    domain = path.relative_to(PACKAGE).parts[0]
    if domain not in LAYERS:
        return
    for module in _imports(path):
        parts = module.split(".")
        if parts[0] == "chalicelib" and len(parts) > 1 and parts[1] in LAYERS:
            assert LAYERS[parts[1]] <= LAYERS[domain], f"{path.relative_to(ROOT)} imports a higher layer: {module}"
        assert parts[0] not in FORBIDDEN_IN_DEPLOYED, f"{path.relative_to(ROOT)} imports {module}"


@pytest.mark.parametrize("path", _modules() + _builders(), ids=lambda p: str(p.relative_to(ROOT)))
def test_key_formats_live_only_in_data_modules(path):
    if path.is_relative_to(PACKAGE) and (
        path.name == "data.py" or path.relative_to(PACKAGE).as_posix() == "core/db.py"
    ):
        return
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        texts = []
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            texts.append(node.value)
        elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            texts.append(str(node.values[0].value))
        for text in texts:
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
            assert not KEY_LITERAL.match(text), f"{where} builds a key: {text!r}"
