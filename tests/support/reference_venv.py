"""A virtual environment with the PyPI references a test compares against.

The reference checks (HF tokenizers, gguf, jinja2, NumPy, sentencepiece) run
in a venv under the build directory, made on first use. `ensure_venv` returns
its python, or None when it cannot be made (no pip, PyPI unreachable): the
caller then exits 77, which CTest reports as skipped. A lock file keeps two
tests that share a venv from installing into it at once.
"""
import fcntl
import os
import subprocess
import sys

SKIP = 77


def ensure_venv(venv, packages, imports=None, optional=()):
    """The venv's python once `imports` (default: `packages`) import there.

    `optional` packages are installed when possible; failing them is no error.
    """
    venv = os.path.abspath(venv)
    py = os.path.join(venv, "bin", "python")
    check = [py, "-c", "import " + ", ".join(imports or packages)]

    def ready():
        return os.path.exists(py) and subprocess.run(check, capture_output=True).returncode == 0

    os.makedirs(os.path.dirname(venv), exist_ok=True)
    with open(venv + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ready():
            return py
        pip = [py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        try:
            if not os.path.exists(py):
                subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True,
                               timeout=300)
            subprocess.run(pip + list(packages), check=True, capture_output=True, timeout=900)
            if optional:
                subprocess.run(pip + list(optional), capture_output=True, timeout=900)
        except (subprocess.SubprocessError, OSError) as e:
            print(f"could not set up {venv}: {e}")
            return None
        return py if ready() else None
