"""Execute one notebook in a fresh kernel, with a progress bar over its code cells, and report
the first failing cell in one line instead of a traceback (used by ``tools.run_course``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from tqdm.auto import tqdm


@dataclass(frozen=True)
class CellFailure:
    """Where a notebook stopped: the cell's index among all cells, its first source line, and
    the error's type and first message line."""

    notebook: str
    cell_index: int
    first_line: str
    error: str
    message: str

    def __str__(self) -> str:
        where = f"cell {self.cell_index} ({self.first_line})" if self.cell_index >= 0 else "start"
        return f"FAILED {self.notebook}, {where}: {self.error}: {self.message}"


@dataclass
class NotebookRun:
    """The executed notebook (outputs up to the failure, if any), its time and its failure."""

    notebook: nbformat.NotebookNode
    seconds: float
    failure: CellFailure | None = None


# ipykernel logs "Kernel is running over TCP without encryption..." to the kernel process's
# stderr, which is our terminal; the kernels we start serve only us, so their own log shows
# errors only. (The notebooks' output is captured by the kernel and is not affected.)
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else ""


def run_notebook(
    source: Path,
    working_directory: Path,
    *,
    timeout: int = 900,
    progress: bool = True,
) -> NotebookRun:
    """Run ``source`` top to bottom in a fresh ``python3`` kernel started in
    ``working_directory``; stops at the first failing cell and says which one it was."""
    source = Path(source)
    notebook = nbformat.read(source, as_version=4)
    code_cells = sum(
        cell.cell_type == "code" and bool(cell.source.strip()) for cell in notebook.cells
    )
    bar = tqdm(total=code_cells, desc=source.stem, unit="cell", leave=True, disable=not progress)
    current: dict[str, Any] = {}

    def started(cell: nbformat.NotebookNode, cell_index: int) -> None:
        current.update(cell=cell, index=cell_index)

    def executed(cell: nbformat.NotebookNode, cell_index: int, execute_reply: dict) -> None:
        bar.update(1)

    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(working_directory)}},
        on_cell_start=started,
        on_cell_executed=executed,
        extra_arguments=KERNEL_ARGUMENTS,
    )
    failure = None
    begun = time.perf_counter()
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError, RuntimeError) as error:
        # RuntimeError: the kernel did not start or answer
        if isinstance(error, CellExecutionError):
            kind, message = error.ename, _first_line(error.evalue)
        else:
            kind, message = type(error).__name__, _first_line(str(error))
        cell = current.get("cell")
        failure = CellFailure(
            notebook=source.name,
            cell_index=current.get("index", -1),
            first_line=_first_line(cell.source) if cell is not None else "",
            error=kind,
            message=message,
        )
    finally:
        bar.close()
    return NotebookRun(notebook, time.perf_counter() - begun, failure)
