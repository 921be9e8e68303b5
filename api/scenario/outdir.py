"""Write a run's outputs into a hidden temporary folder and move them into place at the end."""

import contextlib
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from api.scenario.errors import ScenarioError


@contextlib.contextmanager
def staged_output(
    outdir: Path, *, overwrite: bool = False, inputs: Sequence[Path] = ()
) -> Iterator[Path]:
    """Yield a temporary folder; on success its contents become ``outdir``'s.

    A run that fails half-way leaves no folder that looks like a finished result: the temporary
    folder is removed, and an existing output folder is only emptied once the new one is
    complete. ``outdir`` is resolved first, so ``-o .`` names the current folder; an existing
    folder is filled in place, not replaced, since it may be the shell's current folder.
    ``inputs`` (every file the run reads) may not lie in a folder ``--overwrite`` would empty.
    Another run may fill the same folder meanwhile: the one finishing second is refused then
    (unless overwriting), rather than mixing its outputs into the other's.
    """
    outdir = Path(outdir).resolve()
    _check_outdir(outdir, overwrite, inputs)
    existing = outdir.is_dir()
    home = outdir if existing else outdir.parent
    home.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=_staging_prefix(outdir), dir=home))
    try:
        yield staging
        if not existing:
            _rename_into_place(staging, outdir)
        elif not overwrite:
            _check_still_empty(outdir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if existing:
        _replace_contents(outdir, staging)


def _staging_prefix(outdir: Path) -> str:
    """How the hidden temporary folders of runs writing to ``outdir`` are named."""
    return f".{outdir.name}.partial-"


def _check_outdir(outdir: Path, overwrite: bool, inputs: Sequence[Path]) -> None:
    if outdir.exists() and not outdir.is_dir():
        raise ScenarioError([f"{outdir}: output path exists and is not a folder"])
    if not (outdir.is_dir() and any(outdir.iterdir())):
        return
    if not overwrite:
        raise ScenarioError(
            [f"{outdir}: output folder is not empty (use --overwrite to replace it)"]
        )
    inside = [path for path in inputs if Path(path).resolve().is_relative_to(outdir)]
    if inside:
        raise ScenarioError(
            [
                f"{outdir}: output folder holds the input {path}, which --overwrite would "
                "delete: write the outputs elsewhere"
                for path in inside
            ]
        )


def _taken(outdir: Path) -> ScenarioError:
    """The error of a run that finds its new output folder filled by another run meanwhile."""
    return ScenarioError(
        [
            f"{outdir}: output folder was filled by another run while this one worked; "
            "this run's outputs were discarded (write them elsewhere, or use --overwrite)"
        ]
    )


def _rename_into_place(staging: Path, outdir: Path) -> None:
    """Make the staging folder the new output folder; the rename refuses (rather than merge
    into) a folder another run has filled meanwhile."""
    staging.chmod(0o755)
    try:
        staging.rename(outdir)
    except OSError:
        raise _taken(outdir) from None


def _check_still_empty(outdir: Path) -> None:
    """An existing folder found empty at the start must hold nothing but runs' staging folders
    at the end: without ``--overwrite`` another run's finished outputs are not replaced."""
    prefix = _staging_prefix(outdir)
    if any(not entry.name.startswith(prefix) for entry in outdir.iterdir()):
        raise _taken(outdir)


def _replace_contents(outdir: Path, staging: Path) -> None:
    """Move the old contents aside, the new ones in (renames, so the switch is near-instant)
    and drop the old. Other runs' staging folders stay: those runs are still writing there."""
    old = Path(tempfile.mkdtemp(prefix=".old-", dir=outdir))
    prefix = _staging_prefix(outdir)
    for entry in outdir.iterdir():
        if entry != old and not entry.name.startswith(prefix):
            entry.rename(old / entry.name)
    for entry in staging.iterdir():
        entry.rename(outdir / entry.name)
    staging.rmdir()
    shutil.rmtree(old, ignore_errors=True)
