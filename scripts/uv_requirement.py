"""Prints the requirement for uv that uv.lock pins, with the lock's hashes of its files.

scripts/bootstrap.sh and the Dockerfiles install uv with it (`pip install --require-hashes -r`), so
uv's version is written once (pyproject.toml's constraint-dependencies) and its files are checked.
`--version` prints the version alone. Standard library only: it runs before anything is installed.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

LOCK = Path(__file__).resolve().parent.parent / "uv.lock"


def main(argv: list[str]) -> int:
    packages = tomllib.loads(LOCK.read_text(encoding="utf-8"))["package"]
    uv = next((p for p in packages if p["name"] == "uv"), None)
    if uv is None:
        print(f"{LOCK}: no uv (add it to the dev group and run `uv lock`)", file=sys.stderr)
        return 1
    if argv[1:] == ["--version"]:
        print(uv["version"])
        return 0
    files = [*uv.get("wheels", []), *([uv["sdist"]] if "sdist" in uv else [])]
    print(" ".join([f"uv=={uv['version']}", *(f"--hash={f['hash']}" for f in files)]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
