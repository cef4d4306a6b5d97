"""Compiled bytecode in the deployment packages, so a cold start does not compile every module.

Lambda unpacks a package onto a read-only file system: Python cannot write its `__pycache__`, so
without shipped `.pyc` files every cold start compiles all the Python it imports (pydantic,
botocore, powertools...). Chalice does not compile, so `make deploy` runs chalice through this
module, which adds `.pyc` files (unchecked-hash: valid whatever the unpacked files' times) to each
package chalice builds. Built with the same Python version as the runtime chalice selects.

    python -m infra.bytecode deploy --stage dev     # chalice deploy, with compiled packages
"""

from __future__ import annotations

import compileall
import py_compile
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any


def add_bytecode(package: str | Path) -> int:
    """Adds compiled bytecode for every module of a zip package; returns how many files it added
    (0 if the package already has bytecode)."""
    package = Path(package)
    with zipfile.ZipFile(package) as archive:
        if any(name.endswith(".pyc") for name in archive.namelist()):
            return 0
        with tempfile.TemporaryDirectory() as tmp:
            archive.extractall(tmp)
            before = set(Path(tmp).rglob("*.pyc"))
            compile_tree(tmp)
            added = sorted(set(Path(tmp).rglob("*.pyc")) - before)
            with zipfile.ZipFile(package, "a", zipfile.ZIP_DEFLATED) as out:
                for path in added:
                    out.write(path, path.relative_to(tmp).as_posix())
    return len(added)


def compile_tree(root: str | Path) -> None:
    """Compiles every module under root in place; files that are not Python 3 source are skipped."""
    compileall.compile_dir(
        str(root),
        quiet=2,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )


def _patched_packagers() -> None:
    from chalice.deploy import packager

    kinds = (packager.LambdaDeploymentPackager, packager.AppOnlyDeploymentPackager, packager.LayerDeploymentPackager)
    for cls in kinds:
        original = cls.create_deployment_package

        def create(self: Any, project_dir: str, python_version: str, _original: Any = original) -> str:
            filename: str = _original(self, project_dir, python_version)
            added = add_bytecode(filename)
            if added:
                self._ui.write(f"Added compiled bytecode for {added} modules to {Path(filename).name}.\n")
            return filename

        cls.create_deployment_package = create  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    """Runs the chalice CLI (`deploy`, `package`...) with packages that carry bytecode."""
    _patched_packagers()
    from chalice.cli import main as chalice_main

    sys.argv = ["chalice", *argv]
    return int(chalice_main() or 0)


def copy_without_bytecode(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"), dirs_exist_ok=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
