"""Check the built wheel and sdist in a folder: what `make dist` runs after `python -m build`.

    python scripts/check_dist.py dist

Fails (exit 1, one line per problem) when a distribution ships what it must not (tests, virtual
environments, caches, build output), misses what it must have (LICENSE, the package, the README,
the changelog in the sdist), or its metadata lacks the project URLs, license or extras.
"""

from __future__ import annotations

import email
import re
import sys
import tarfile
import zipfile
from pathlib import Path

PACKAGE = "airflow_provider_logfire"
URLS = {"Documentation", "Source", "Changelog", "Issues"}
EXTRAS = {"local", "pandas", "polars", "amazon", "dev"}
#: Paths (relative to the distribution's root) that must never be shipped.
JUNK = re.compile(
    r"(^|/)(tests?|\.venv|venv|\.git|\.demo|\.bench|site|__pycache__|\.pytest_cache|\.ruff_cache)(/|$)|\.pyc$"
)


def check_metadata(text: str, where: str) -> list[str]:
    message = email.message_from_string(text)
    problems = []
    urls = {entry.split(",", 1)[0].strip() for entry in message.get_all("Project-URL") or []}
    if missing := URLS - urls:
        problems.append(f"{where}: no Project-URL for {sorted(missing)}")
    if message.get("License-Expression") != "MIT":
        problems.append(f"{where}: License-Expression is {message.get('License-Expression')!r}, not 'MIT'")
    if "LICENSE" not in (message.get_all("License-File") or []):
        problems.append(f"{where}: no License-File: LICENSE")
    if missing := EXTRAS - set(message.get_all("Provides-Extra") or []):
        problems.append(f"{where}: extras {sorted(missing)} not declared")
    return problems


def check_wheel(path: Path) -> list[str]:
    names = zipfile.ZipFile(path).namelist()
    problems = [f"{path.name}: ships {name}" for name in names if JUNK.search(name)]
    top = {name.split("/")[0] for name in names}
    dist_info = next((t for t in top if t.endswith(".dist-info")), None)
    if top - {PACKAGE, dist_info}:
        problems.append(f"{path.name}: unexpected top-level entries {sorted(top - {PACKAGE, dist_info})}")
    if f"{dist_info}/licenses/LICENSE" not in names:
        problems.append(f"{path.name}: no LICENSE in {dist_info}/licenses/")
    for required in (f"{PACKAGE}/__init__.py", f"{PACKAGE}/get_provider_info.py", f"{PACKAGE}/local/cli.py"):
        if required not in names:
            problems.append(f"{path.name}: {required} is missing")
    if (
        f"{dist_info}/entry_points.txt" not in names
        or "apache_airflow_provider"
        not in zipfile.ZipFile(path).read(f"{dist_info}/entry_points.txt").decode()
    ):
        problems.append(f"{path.name}: no apache_airflow_provider entry point")
    metadata = zipfile.ZipFile(path).read(f"{dist_info}/METADATA").decode()
    return problems + check_metadata(metadata, path.name)


def check_sdist(path: Path) -> list[str]:
    with tarfile.open(path) as archive:
        members = archive.getnames()
        root = members[0].split("/")[0]
        relative = [m[len(root) + 1 :] for m in members if m.startswith(f"{root}/")]
        problems = [f"{path.name}: ships {name}" for name in relative if JUNK.search(name)]
        for required in ("LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", f"{PACKAGE}/__init__.py"):
            if required not in relative:
                problems.append(f"{path.name}: {required} is missing")
        extracted = archive.extractfile(f"{root}/PKG-INFO")
        metadata = extracted.read().decode() if extracted else ""
    return problems + check_metadata(metadata, path.name)


def main(folder: str) -> int:
    wheels = sorted(Path(folder).glob("*.whl"))
    sdists = sorted(Path(folder).glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"expected one wheel and one sdist in {folder}, found {[p.name for p in [*wheels, *sdists]]}")
        return 1
    problems = check_wheel(wheels[0]) + check_sdist(sdists[0])
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{wheels[0].name} and {sdists[0].name}: contents and metadata as expected")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "dist"))
