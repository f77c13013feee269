"""Build a function's deployment zip: its folder, the project packages it imports, and its requirements.

Requirements are installed by pip for Lambda's platform (manylinux wheels for the runtime's Python and
architecture), minus what the runtime already provides (boto3 and its dependencies). Two caches keep a
second build fast: the dependencies' zip, keyed by a hash of requirements.txt and the target platform, and
the function's zip, keyed by that and a hash of every file of code. Zips are byte-for-byte reproducible
(sorted entries, fixed timestamps and modes, no bytecode), so unchanged code keeps its CodeSha256 and
``deploy_lambdas`` leaves the function alone.
"""

import base64
import csv
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .functions import PROJECT_ROOT, LambdaFunction

BUILD_DIR = PROJECT_ROOT / "var" / "lambda-build"
# Lambda's Python runtimes include the SDK: https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
)
PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
MAX_DIRECT_UPLOAD = 50 * 1024 * 1024  # CreateFunction/UpdateFunctionCode with ZipFile: 50 MB zipped
SKIP_DIRS = frozenset({"__pycache__", "tests", ".pytest_cache", ".mypy_cache"})
SKIP_SUFFIXES = (".pyc", ".pyo")
SKIP_FILES = frozenset({"requirements.txt"})
FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the zip format's epoch: the same bytes on every build
KEEP_BUILDS = 3  # zips kept per function; older ones are removed
BUILDER_VERSION = "1"  # bump when the way zips are made changes, to invalidate the caches


class PackagingError(Exception):
    """The package could not be built (pip failed, or it is too large for a direct upload)."""


@dataclass(frozen=True)
class Package:
    path: Path
    code_sha256: str  # base64 of the zip's SHA-256, as Lambda reports CodeSha256
    size: int
    cached: bool
    with_dependencies: bool

    def read(self) -> bytes:
        return self.path.read_bytes()


def package_build(function: LambdaFunction, *, runtime: str, architecture: str = "x86_64",
                  with_dependencies: bool = True, build_dir: Path | None = None) -> Package:
    """Return the function's zip, built now or taken from the cache when no input changed."""
    build_dir = Path(build_dir or BUILD_DIR)
    build_dir.mkdir(parents=True, exist_ok=True)
    deps = _dependencies_zip(function, runtime, architecture, build_dir) if with_dependencies else None
    files = code_files(function)
    digest = hashlib.sha256(f"{BUILDER_VERSION}\0{deps.name if deps else '-'}\0".encode())
    for arcname, path in files:
        digest.update(f"{arcname}\0".encode())
        digest.update(path.read_bytes())
    target = build_dir / f"{function.key}-{digest.hexdigest()[:20]}.zip"
    cached = target.exists()
    if not cached:
        _write_zip(target, files, base=deps)
        _prune(build_dir, function.key, keep=target)
    size = target.stat().st_size
    if size > MAX_DIRECT_UPLOAD:
        mb = size / 2**20
        raise PackagingError(f"{target.name} is {mb:.1f} MB; Lambda takes 50 MB at most, uploaded directly")
    return Package(target, code_sha256(target.read_bytes()), size, cached, with_dependencies)


def code_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def code_files(function: LambdaFunction) -> list[tuple[str, Path]]:
    """(name in the zip, file) of the handler's folder (at the zip's root) and of each project package."""
    files = [(p.relative_to(function.source).as_posix(), p) for p in _walk(function.source)]
    for package in function.packages:
        root = PROJECT_ROOT / package
        files += [(p.relative_to(PROJECT_ROOT).as_posix(), p) for p in _walk(root)]
    # Provisioning (this code among it) creates resources; a function only uses them.
    return sorted((name, p) for name, p in files if not name.startswith("stocktool/provisioning/"))


def _walk(root: Path) -> list[Path]:
    found = []
    for current, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
        found += [Path(current) / n for n in names
                  if not n.endswith(SKIP_SUFFIXES) and n not in SKIP_FILES and not n.startswith(".")]
    return found


def _dependencies_zip(function: LambdaFunction, runtime: str, architecture: str, build_dir: Path) -> Path:
    requirements = function.source / "requirements.txt"
    python = runtime.removeprefix("python")
    platform = PLATFORMS[architecture]
    key = hashlib.sha256("\0".join(
        [BUILDER_VERSION, requirements.read_text(), python, platform, *sorted(RUNTIME_PROVIDED)]
    ).encode()).hexdigest()[:20]
    target = build_dir / f"deps-{key}.zip"
    if target.exists():
        return target
    work = Path(tempfile.mkdtemp(prefix="deps-", dir=build_dir))
    try:
        _pip_install(requirements, work / "site", python, platform)
        _remove_distributions(work / "site", RUNTIME_PROVIDED)
        shutil.rmtree(work / "site" / "bin", ignore_errors=True)  # console scripts: nothing runs them
        site = work / "site"
        _write_zip(target, sorted((p.relative_to(site).as_posix(), p) for p in _walk_all(site)))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _pip_install(requirements: Path, target: Path, python: str, platform: str) -> None:
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
        "--target", str(target), "--requirement", str(requirements),
        # Wheels for Lambda's Amazon Linux and Python, whatever machine builds the zip.
        "--platform", platform, "--implementation", "cp", "--python-version", python, "--only-binary=:all:",
        "--no-compile",  # .pyc files would carry build times into the zip
    ]
    done = subprocess.run(command, check=False, capture_output=True, text=True)
    if done.returncode != 0:
        tail = " | ".join(line for line in done.stderr.strip().splitlines()[-5:] if line.strip())
        raise PackagingError(f"pip could not install {requirements}: {tail}")


def _walk_all(root: Path) -> list[Path]:
    found = []
    for current, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        found += [Path(current) / n for n in names if not n.endswith(SKIP_SUFFIXES)]
    return found


def _canonical(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def _remove_distributions(site: Path, names: frozenset[str]) -> None:
    """Delete the files of the installed distributions called ``names`` (as their RECORD lists them)."""
    for info in site.glob("*.dist-info"):
        metadata = (info / "METADATA").read_text(errors="replace")
        name = next((line[5:] for line in metadata.splitlines() if line.startswith("Name:")), "")
        if _canonical(name) not in names:
            continue
        with open(info / "RECORD", newline="") as fh:
            for row in csv.reader(fh):
                path = (site / row[0]).resolve() if row else site
                if path.is_relative_to(site.resolve()) and path.is_file():
                    path.unlink()
        shutil.rmtree(info, ignore_errors=True)
    for current, _dirs, _names in os.walk(site, topdown=False):  # children before their parents
        if current != str(site) and not os.listdir(current):
            os.rmdir(current)


def _write_zip(target: Path, files: list[tuple[str, Path]], base: Path | None = None) -> None:
    """Write ``files`` after zip ``base``'s entries, atomically: a parallel build never sees half a zip."""
    fd, tmp = tempfile.mkstemp(prefix=target.stem + "-", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        if base:
            shutil.copyfile(base, tmp)
        with zipfile.ZipFile(tmp, "a" if base else "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for arcname, path in files:
                info = zipfile.ZipInfo(arcname, date_time=FIXED_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o100644 << 16  # a regular file, readable by Lambda's user
                zf.writestr(info, path.read_bytes(), compresslevel=6)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _prune(build_dir: Path, key: str, keep: Path) -> None:
    def mtime(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except FileNotFoundError:  # another build pruned it first
            return 0.0

    builds = sorted(build_dir.glob(f"{key}-*.zip"), key=mtime, reverse=True)
    for old in [p for p in builds if p != keep][KEEP_BUILDS - 1:]:
        old.unlink(missing_ok=True)
