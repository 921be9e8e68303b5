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
    ``inputs`` (the scenario file) may not lie in a folder ``--overwrite`` would empty.
    """
    outdir = Path(outdir).resolve()
    _check_outdir(outdir, overwrite, inputs)
    existing = outdir.is_dir()
    home = outdir if existing else outdir.parent
    home.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.partial-", dir=home))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if existing:
        _replace_contents(outdir, staging)
    else:
        staging.chmod(0o755)
        staging.rename(outdir)


def _check_outdir(outdir: Path, overwrite: bool, inputs: Sequence[Path]) -> None:
    if outdir.exists() and not outdir.is_dir():
        raise ScenarioError([f"{outdir}: output path exists and is not a folder"])
    if not (outdir.is_dir() and any(outdir.iterdir())):
        return
    if not overwrite:
        raise ScenarioError(
            [f"{outdir}: output folder is not empty (use --overwrite to replace it)"]
        )
    for path in inputs:
        if Path(path).resolve().is_relative_to(outdir):
            raise ScenarioError(
                [
                    f"{outdir}: output folder holds {path}, which --overwrite "
                    "would delete: write the outputs elsewhere"
                ]
            )


def _replace_contents(outdir: Path, staging: Path) -> None:
    """Move the old contents aside, the new ones in (renames, so the switch is near-instant)
    and drop the old."""
    old = Path(tempfile.mkdtemp(prefix=".old-", dir=outdir))
    for entry in outdir.iterdir():
        if entry not in (staging, old):
            entry.rename(old / entry.name)
    for entry in staging.iterdir():
        entry.rename(outdir / entry.name)
    staging.rmdir()
    shutil.rmtree(old, ignore_errors=True)
