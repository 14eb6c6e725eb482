"""Helpers for the browser tests (tests/browser/test_browser.py): a throw-away JupyterLab server
and the few page operations the tests need. Every wait is bounded; every process started here is
stopped by its owner's ``close``/``__exit__``."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import nbformat

from tests.conftest import ROOT

REPOSITORY_ROOT = ROOT  # the name tests/browser/test_browser.py imports

# Flags known to work for headless Debian Chromium in containers, offline.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = (
    "install Debian's Chromium (`apt-get install chromium`) or point COURSE_CHROMIUM at a "
    "Chromium binary; never `playwright install`, which downloads a browser"
)

# JupyterLab settings for the test profile: every cell stays in the page (no virtual
# scrolling), and no news or update checks reach for the network.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def find_chromium() -> str | None:
    """Path of a Chromium binary: ``COURSE_CHROMIUM``, else the first one on PATH."""
    chosen = os.environ.get("COURSE_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def blank_copy(source: Path, folder: Path) -> Path:
    """Copy a notebook into ``folder`` with every output and execution count cleared."""
    notebook = nbformat.read(source, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    notebook.metadata.pop("widgets", None)
    target = folder / source.name
    nbformat.write(notebook, target)
    return target


def stop_process_group(
    process: subprocess.Popen | None, signals: tuple[signal.Signals, ...], grace: float
) -> None:
    """Send ``signals`` in turn to ``process``'s group, waiting ``grace`` seconds after each for
    it to exit; then SIGKILL the group, since kernels started by the process share it and must
    not outlive it."""
    if process is None or process.poll() is not None:
        return
    for sent in signals:
        try:
            os.killpg(process.pid, sent)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


class LocalServer:
    """A server the browser tests start: a free port of 127.0.0.1, a folder ``home`` of its
    own, and everything it writes in one log file there."""

    def __init__(self, home: Path, log_name: str) -> None:
        self.home = home
        self.port = free_port()
        self.log_path = home / log_name
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        """Everything the server and its kernels wrote so far."""
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")


class JupyterLabServer(LocalServer):
    """``python -m jupyter lab`` from this interpreter (so the kernel is this environment's),
    on a free port of 127.0.0.1, with a random token and its own root, settings, workspace,
    config, data and runtime folders under ``home``."""

    def __init__(self, home: Path, startup_timeout: float = 120.0) -> None:
        super().__init__(home, "jupyterlab.log")
        self.root = home / "root"
        self.token = secrets.token_hex(24)
        self.startup_timeout = startup_timeout

    def notebook_url(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?reset&token={self.token}"

    def _write_settings(self, settings_dir: Path) -> None:
        for key, values in LAB_SETTINGS.items():
            plugin_folder, plugin = key.rsplit("/", 1)
            target = settings_dir / plugin_folder / f"{plugin}.jupyterlab-settings"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))

    def command(self, settings_dir: Path, workspaces_dir: Path) -> list[str]:
        command = [
            sys.executable,
            "-m",
            "jupyter",
            "lab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            f"--LabApp.user_settings_dir={settings_dir}",
            f"--LabApp.workspaces_dir={workspaces_dir}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.news_url=",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        return command

    def start(self) -> JupyterLabServer:
        """Start the server and wait (bounded) until its REST API answers."""
        folders = {name: self.home / name for name in ("settings", "workspaces", "jupyter")}
        for folder in [self.root, *folders.values()]:
            folder.mkdir(parents=True, exist_ok=True)
        self._write_settings(folders["settings"])
        environment = {
            **os.environ,
            # no user-wide Jupyter or IPython configuration, kernels or extensions leak in
            "JUPYTER_CONFIG_DIR": str(folders["jupyter"] / "config"),
            "JUPYTER_DATA_DIR": str(folders["jupyter"] / "data"),
            "JUPYTER_RUNTIME_DIR": str(folders["jupyter"] / "runtime"),
            "IPYTHONDIR": str(folders["jupyter"] / "ipython"),
            "JUPYTER_PLATFORM_DIRS": "1",
            "PYTHONUNBUFFERED": "1",
        }
        environment.pop("COURSE_STATIC_FIGURES", None)  # live kernels show interactive figures
        log = self.log_path.open("wb")
        try:
            self.process = subprocess.Popen(
                self.command(folders["settings"], folders["workspaces"]),
                cwd=self.root,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kernels are stopped with it
            )
        finally:
            log.close()
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        status = f"{self.url}/api/status?token={self.token}"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited with {self.process.returncode}:\n{self.log()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(status, timeout=5) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise TimeoutError(
            f"jupyter lab did not answer within {self.startup_timeout:.0f} s:\n{self.log()[-3000:]}"
        )

    def _api(self, path: str, method: str = "GET") -> Any:
        request = urllib.request.Request(
            f"{self.url}/api/{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Shut down every running kernel (frees the CPU between tests); never raises."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            for kernel in self._api("kernels"):
                self._api(f"kernels/{kernel['id']}", method="DELETE")
        except (OSError, ValueError):
            pass

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM the server's process group (server and kernels), SIGKILL after ``grace``."""
        process, self.process = self.process, None
        stop_process_group(process, (signal.SIGTERM, signal.SIGKILL), grace)

    def __enter__(self) -> JupyterLabServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# --- page operations (JupyterLab 4 exposes its application as window.jupyterapp) -------------

NOTEBOOK_READY_JS = """() => {
    const app = window.jupyterapp;
    const panel = app && app.shell && app.shell.currentWidget;
    const context = panel && panel.sessionContext;
    const kernel = context && context.session && context.session.kernel;
    return Boolean(panel && panel.content && panel.content.widgets
        && panel.content.widgets.length > 0 && kernel && kernel.status === 'idle');
}"""

RUN_FINISHED_JS = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    const cells = panel.content.widgets.filter(cell => cell.model.type === 'code');
    const outputs = cells.flatMap(cell => cell.model.sharedModel.toJSON().outputs || []);
    if (outputs.some(output => output.output_type === 'error')) return 'error';
    const done = cells.every(cell => cell.model.executionCount !== null)
        && kernel && kernel.status === 'idle';
    return done ? 'done' : false;
}"""

# Collects the kernel's error messages from IOPub from now on. A widget callback run by a change
# made in the browser (a slider move) reports its exception only there, with the comm message as
# parent: it shows in no cell and not in the server log (JupyterLab puts it in its log console).
WATCH_KERNEL_ERRORS_JS = """() => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    window.courseKernelErrors = [];
    kernel.iopubMessage.connect((_, message) => {
        if (message.header.msg_type !== 'error') return;
        const content = message.content;
        const trace = (content.traceback || []).join('\\n').replace(/\\u001b\\[[0-9;]*m/g, '');
        window.courseKernelErrors.push(`${content.ename}: ${content.evalue}\\n${trace}`);
    });
}"""
KERNEL_ERRORS_JS = "() => window.courseKernelErrors || []"

# Every output of every code cell, as nbformat JSON, with the cell's execution count.
CELL_OUTPUTS_JS = """() => window.jupyterapp.shell.currentWidget.content.widgets
    .filter(cell => cell.model.type === 'code')
    .map(cell => ({count: cell.model.executionCount,
                   source: cell.model.sharedModel.getSource(),
                   outputs: cell.model.sharedModel.toJSON().outputs || []}))"""

# Error messages ipywidgets and JupyterLab render in place of a widget or an output.
RENDERED_ERRORS_JS = """() => {
    const texts = [];
    for (const node of document.querySelectorAll(
            '.jupyter-widgets-error-widget, .jp-RenderedText[data-mime-type='
            + '"application/vnd.jupyter.stderr"]')) {
        texts.push(node.textContent.trim());
    }
    for (const node of document.querySelectorAll('.jp-OutputArea-output')) {
        const text = node.textContent;
        if (text.includes('Error displaying widget') || text.includes('Failed to load model'))
            texts.push(text.trim());
    }
    return texts;
}"""


def error_outputs(cells: list[dict]) -> list[str]:
    """Readable descriptions of the error outputs and stderr text among ``cells``' outputs."""
    found = []
    for cell in cells:
        for output in cell["outputs"]:
            if output.get("output_type") == "error":
                found.append(
                    f"cell [{cell['count']}] {output.get('ename')}: {output.get('evalue')}\n"
                    f"  in: {cell['source'][:200]}"
                )
            elif output.get("output_type") == "stream" and output.get("name") == "stderr":
                text = "".join(output.get("text", ""))
                found.append(f"cell [{cell['count']}] wrote to stderr: {text[:500]}")
    return found


SERVER_LOG_ERRORS = ("Traceback (most recent call last)", "Exception in comm_msg")


def server_log_errors(log: str) -> list[str]:
    """Lines of the server log that show a Python exception (a widget callback that raised
    is logged there by the kernel, not shown in the notebook)."""
    lines = log.splitlines()
    return [
        "\n".join(lines[index : index + 25])
        for index, line in enumerate(lines)
        if any(marker in line for marker in SERVER_LOG_ERRORS)
    ]
