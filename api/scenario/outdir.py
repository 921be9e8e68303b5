"""Write a run's outputs into a hidden temporary folder and rename it into place at the end."""

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from api.scenario.errors import ScenarioError


@contextlib.contextmanager
def staged_output(outdir: Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``outdir``; on success it becomes ``outdir``.

    A run that fails half-way leaves no folder that looks like a finished result: the temporary
    folder is removed, and an existing output folder is only replaced once the new one is complete.
    """
    outdir = Path(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise ScenarioError([f"{outdir}: output path exists and is not a folder"])
    if outdir.is_dir() and any(outdir.iterdir()) and not overwrite:
        raise ScenarioError(
            [f"{outdir}: output folder is not empty (use --overwrite to replace it)"]
        )
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.partial-", dir=outdir.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = None
    if outdir.exists():
        old = outdir.with_name(f".{outdir.name}.old-{staging.name.rsplit('-', 1)[-1]}")
        outdir.rename(old)
    staging.chmod(0o755)
    staging.rename(outdir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
