"""infra.bytecode: the deployment packages carry compiled bytecode that is valid once unpacked."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from infra.bytecode import add_bytecode


def test_packages_get_bytecode_that_python_uses_without_recompiling(tmp_path):
    package = tmp_path / "deployment.zip"
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", "import lib.helper\nVALUE = lib.helper.answer()\n")
        archive.writestr("lib/__init__.py", "")
        archive.writestr("lib/helper.py", "def answer():\n    return 42\n")
        archive.writestr("lib/template.py.txt", "not python")
    assert add_bytecode(package) == 3
    assert add_bytecode(package) == 0  # already compiled: left alone
    names = zipfile.ZipFile(package).namelist()
    tag = sys.implementation.cache_tag
    assert f"lib/__pycache__/helper.{tag}.pyc" in names and f"__pycache__/app.{tag}.pyc" in names

    unpacked = tmp_path / "task"
    zipfile.ZipFile(package).extractall(unpacked)
    # Proof the bytecode is what runs: the source no longer compiles (and has a new time), yet the
    # import succeeds from the unchecked-hash .pyc, as on Lambda's read-only file system.
    (unpacked / "lib" / "helper.py").write_text("def answer(:\n")
    check = "import app; print(app.VALUE)"
    output = subprocess.run(
        [sys.executable, "-c", check],
        cwd=unpacked,
        env={"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(unpacked)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert output.split() == ["42"]
