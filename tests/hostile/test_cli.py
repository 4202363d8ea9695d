"""Money guards and the command line, tried as a new user would: no NaN switches a guard off,
every refusal is plain, one line per problem, and no traceback reaches the user."""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from seedance_widgets import SeedancePanel
from seedance_widgets._errors import UsageError
from seedance_widgets._inputs import money
from seedance_widgets.cli import main

from .conftest import CREATE, FAST, KEY, client, done_body, serve_video, task_body
from .server import HostileServer, Reply


@pytest.fixture
def live(server: HostileServer, monkeypatch: pytest.MonkeyPatch) -> HostileServer:
    """The CLI in live mode, pointed at the scripted server."""
    monkeypatch.setenv("TOKENLAB_API_KEY", KEY)
    monkeypatch.setenv("TOKENLAB_BASE_URL", server.base_url)
    return server


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse refusals
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


# ---------------------------------------------------------------------------- money
@pytest.mark.parametrize("value", [math.nan, "nan", math.inf, "-inf", -0.01, True, "abc", None,
                                   10**400, "1e999", [5]])
def test_money_refuses_what_is_no_amount(value: object) -> None:
    with pytest.raises(UsageError, match="budget_usd must be a finite amount"):
        money(value, "budget_usd")


def test_money_accepts_amounts() -> None:
    assert [money(v, "x") for v in (0, 5, 0.5, "0.50", " $2 ")] == [0.0, 5.0, 0.5, 0.5, 2.0]


async def test_a_nan_budget_is_refused_before_any_click(server: HostileServer) -> None:
    async with client(server) as c:
        with pytest.raises(UsageError, match="budget_usd"):
            SeedancePanel(c, budget_usd=float("nan"), prompt="a fox", refresh_catalog=False)
    assert not server.seen()


def test_confirm_above_nan_is_refused_and_nothing_is_submitted(
        live: HostileServer, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "generate", "--prompt", "a fox", "--confirm-above", "nan")
    assert code == 2 and "--confirm-above: must be a finite amount" in err
    assert not live.seen()


def test_an_unknown_price_is_not_paid_without_asking(live: HostileServer,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "generate", "--model", "seedance-2.0-mini", "--prompt", "a fox")
    assert code == 3 and "not submitted: its price is not known offline" in err
    assert "price has no" not in err and not live.creates


# ---------------------------------------------------------------------------- addresses, ports
@pytest.mark.parametrize("url", ["htp://api.example", "http://", "https://api.example:99999",
                                 "https://user:pw@api.example", "https://a b", "api.example"])
def test_a_malformed_base_url_is_one_plain_line(live: HostileServer, url: str,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKENLAB_BASE_URL", url)
    code, _, err = run(capsys, "generate", "--prompt", "a fox", "--yes")
    lines = [line for line in err.splitlines() if line]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: TOKENLAB_BASE_URL")
    assert "may have reached" not in err and "pw" not in err
    assert not live.seen()


def test_an_unreachable_server_is_said_once_and_not_as_ambiguous(
        live: HostileServer, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("seedance_widgets._core.RetryPolicy", lambda: FAST)  # quick retries
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again at once: nothing listens there
    monkeypatch.setenv("TOKENLAB_BASE_URL", f"http://127.0.0.1:{port}")
    code, _, err = run(capsys, "generate", "--prompt", "a fox", "--yes")
    assert code == 1 and err.count("could not connect") == 1 and "may have reached" not in err


@pytest.mark.parametrize("port", ["99999", "-1", "http", "80.5"])
def test_a_bad_port_is_one_line(capsys: pytest.CaptureFixture[str], port: str) -> None:
    code, _, err = run(capsys, "emulator", "--port", port)
    assert code == 2 and err.strip().count("\n") == 0 and "is not a port" in err


def test_a_port_in_use_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        code, _, err = run(capsys, "emulator", "--port", str(s.getsockname()[1]))
    assert code == 2 and err.strip().count("\n") == 0 and "already in use" in err


# ---------------------------------------------------------------------------- wording
@pytest.mark.parametrize(("args", "field"), [
    (("--image", "ftp://x/a.png"), "image_url"), (("--seed", "99999999999999999999"), "seed"),
    (("--reference", "https://x/a.png", "--reference", "ftp://x/b.png"), "reference_images"),
    (("--prompt", "\u200b"), "prompt"), (("--task-id", "t 1", "--prompt", "more"), "task_id"),
])
def test_field_names_are_not_repeated(capsys: pytest.CaptureFixture[str], args: tuple[str, ...],
                                      field: str) -> None:
    code, _, err = run(capsys, "estimate", "--prompt", "a fox", *args)
    problems = err.splitlines()[1:]
    assert code == 2 and err.startswith("invalid request:") and problems
    assert all(line.startswith(f"  {field}") for line in problems), problems
    assert all(line.count(field) == 1 or f"{field}[" in line for line in problems), problems


def test_an_ambiguous_create_is_reported_once(live: HostileServer,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    live.route("POST", CREATE, Reply(502, body=b"<html>bad gateway</html>"))
    code, _, err = run(capsys, "generate", "--prompt", "a fox", "--yes")
    assert code == 1 and err.count("may have reached the server") == 1
    assert len(live.creates) == 1


def test_an_echoed_key_never_reaches_the_terminal(live: HostileServer,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    live.route("POST", CREATE, lambda req: Reply(400, json={"error": {
        "message": f"bad auth {req.headers['authorization']}", "type": "invalid_request_error"}}))
    code, out, err = run(capsys, "generate", "--prompt", "a fox", "--yes")
    assert code == 1 and KEY not in out + err and KEY[10:30] not in out + err


def test_an_unwritable_out_is_refused_before_paying(live: HostileServer, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    code, _, err = run(capsys, "generate", "--prompt", "a fox", "--yes", "--out",
                       f"{blocker}/sub/")
    assert code == 2 and "--out" in err and not live.creates


def test_a_paid_run_shows_its_reported_cost(live: HostileServer, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    live.route("POST", CREATE, Reply(json=task_body("t1")))
    live.route("GET", "/v1/tasks/", Reply(json=done_body(
        live, billing={"cost_usd": 0.4321}, billing_transaction_id="bt_77")))
    serve_video(live)
    code, out, err = run(capsys, "generate", "--prompt", "a fox", "--yes", "--out",
                         str(tmp_path))
    assert code == 0, err
    assert "reported cost: $0.4321 (billing transaction bt_77)" in out
    assert (tmp_path / "t1.mp4").exists()


def test_undecodable_argv_is_refused_without_a_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKENLAB_")}
    env["SEEDANCE_WIDGETS_HOME"] = str(tmp_path / "home")
    run_ = subprocess.run([sys.executable, "-m", "seedance_widgets", "estimate", "--prompt",
                           os.fsdecode(b"caf\xe9 \xff")], env=env, capture_output=True,
                          timeout=60)
    err = run_.stderr.decode("utf-8", "replace")
    assert run_.returncode == 2 and "Traceback" not in err and "cannot be encoded" in err
