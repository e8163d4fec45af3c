"""An installed wheel serves pages from any directory (docs/deploy.md#installing-as-a-package)."""

import os
import socket
import subprocess
import sys
import sysconfig
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent


def test_every_code_package_is_listed_in_pyproject() -> None:
    """pyproject.toml lists packages by name: a new one must be added there."""
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
            "packages"
        ]
    )
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("teletherapy", "signaling", "ratings")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found - listed == set()


def test_a_checkout_reads_the_repository_folders() -> None:
    from teletherapy import paths

    assert not paths.INSTALLED
    assert paths.TEMPLATES == ROOT / "templates"
    assert paths.CONFIG == ROOT / "config"
    assert paths.MIGRATIONS == ROOT / "migrations"
    assert paths.SOCKET_IO_CLIENT == ROOT / "node_modules/socket.io-client/dist"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the wheel; dependencies come from the project's venv."""
    tmp = tmp_path_factory.mktemp("packaging")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            tmp / "dist",
            ROOT,
        ],
        check=True,
        cwd=tmp,
    )
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    python = venv / "bin" / "python"
    (wheel,) = (tmp / "dist").glob("teletherapy-*.whl")
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", wheel], check=True, cwd=tmp
    )
    # After installing (pip must not see the project's teletherapy): a plain path entry
    # adds the dependencies; the editable install's finder (a .pth there) is not run.
    target = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(target) / "project-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELETHERAPY_")}
    for name in ("PYTHONPATH", "HOST", "PORT", "VIRTUAL_ENV"):
        env.pop(name, None)
    env["TELETHERAPY_DATABASE_URL"] = f"sqlite:///{tmp / 'app.sqlite'}"
    return env


@pytest.fixture(scope="module")
def served(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("served")
    cli = installed / "bin" / "teletherapy"
    subprocess.run([cli, "db", "upgrade"], check=True, cwd=tmp, env=_env(tmp))
    port = _free_port()
    log = (tmp / "serve.log").open("wb")
    proc = subprocess.Popen(
        [cli, "serve", "--port", str(port)],
        cwd=tmp,
        env=_env(tmp),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (tmp / "serve.log").read_text()
            try:
                requests.get(url + "/healthz", timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "no answer within 30 s"
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.mark.e2e
def test_the_wheel_is_what_runs(installed: Path, tmp_path: Path) -> None:
    found = subprocess.run(
        [
            installed / "bin" / "python",
            "-c",
            "import teletherapy; print(teletherapy.__file__)",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
    ).stdout.strip()
    assert Path(found).is_relative_to(installed)


@pytest.mark.e2e
def test_an_installed_wheel_serves_the_login_page_and_its_files(served: str) -> None:
    login = requests.get(served + "/login", timeout=5)
    assert login.status_code == 200
    assert 'data-testid="login-email"' in login.text
    css = requests.get(served + "/static/css/app.css", timeout=5)
    assert css.status_code == 200 and "text/css" in css.headers["Content-Type"]
    js = requests.get(served + "/vendor/socket.io.esm.min.js", timeout=5)
    assert js.status_code == 200 and "javascript" in js.headers["Content-Type"]


@pytest.mark.e2e
def test_an_installed_wheel_lists_the_shipped_instruments(
    installed: Path, tmp_path: Path
) -> None:
    listing = subprocess.run(
        [installed / "bin" / "teletherapy", "instruments", "list"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
    ).stdout
    for form in ("dta-c", "dta-t", "dta-meta", "wai-sr", "wai-srt"):
        assert f"\n{form} " in listing


@pytest.mark.e2e
def test_an_installed_wheel_writes_its_mails(installed: Path, tmp_path: Path) -> None:
    """The mail templates (.txt and .html) are package data: an invitation from the
    installed command is written as an .eml file (development, no SMTP)."""
    env = {**_env(tmp_path), "TELETHERAPY_INSTANCE_PATH": str(tmp_path / "instance")}
    cli = installed / "bin" / "teletherapy"
    subprocess.run([cli, "db", "upgrade"], check=True, cwd=tmp_path, env=env)
    out = subprocess.run(
        [
            cli,
            *("users", "invite", "--role", "researcher"),
            *("--email", "wheel@example.org", "--name", "Wheel Person"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    link = out.stdout.strip().splitlines()[-1]
    assert "/invite/" in link
    (eml,) = (tmp_path / "instance" / "mail").glob("*.eml")
    raw = eml.read_text()
    assert "wheel@example.org" in raw and "text/plain" in raw and "text/html" in raw
