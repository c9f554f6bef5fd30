"""The compiled build: used only when current, and it writes the same trace bytes."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim.commands import compile as compile_command
from statecharts import native
from statecharts.errors import LocalError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = [
    *sorted(ROOT.glob("examples/*.yaml")),
    ROOT / "examples/bench/quick-1h.yaml",
    ROOT / "examples/bench/clients-10.yaml",
]


def _fake_build(build: Path, sources: str) -> None:
    for library in native._libraries(build).values():
        library.parent.mkdir(parents=True, exist_ok=True)
        library.write_bytes(b"")
    (build / native.MANIFEST).write_text(json.dumps({"sources": sources}))


@pytest.fixture
def compiled_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(native.PURE_ENV, raising=False)


@pytest.mark.usefixtures("compiled_allowed")
def test_a_current_build_is_used(tmp_path: Path) -> None:
    _fake_build(tmp_path, native.sources_hash())
    status, libraries = native._check(tmp_path)
    assert status.active, status.reason
    assert set(libraries) == {native.GROUP + "__mypyc", *native.COMPILED}


@pytest.mark.usefixtures("compiled_allowed")
def test_a_stale_build_is_not_used(tmp_path: Path) -> None:
    _fake_build(tmp_path, "the hash of other sources")
    status, libraries = native._check(tmp_path)
    assert not status.active and "stale" in status.reason and libraries == {}


@pytest.mark.usefixtures("compiled_allowed")
def test_a_build_missing_a_library_is_not_used(tmp_path: Path) -> None:
    _fake_build(tmp_path, native.sources_hash())
    native._libraries(tmp_path)["sim.kernel"].unlink()
    assert not native._check(tmp_path)[0].active


@pytest.mark.usefixtures("compiled_allowed")
def test_no_build_means_pure_python(tmp_path: Path) -> None:
    status, _ = native._check(tmp_path / "absent")
    assert not status.active and "chatsim compile" in status.reason


def test_the_environment_turns_the_build_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_build(tmp_path, native.sources_hash())
    monkeypatch.setenv(native.PURE_ENV, "1")
    status, _ = native._check(tmp_path)
    assert not status.active and native.PURE_ENV in status.reason


def test_the_finder_loads_only_the_compiled_modules(tmp_path: Path) -> None:
    libraries = native._libraries(tmp_path)
    finder = native._Finder(libraries)
    assert finder.find_spec("json", None) is None
    spec = finder.find_spec("sim.kernel", None)
    assert spec is not None and spec.origin == str(libraries["sim.kernel"])


def test_the_suite_runs_pure_python() -> None:
    """Coverage and the planted bugs (subclasses, patches) need the Python sources."""
    status = native.activate()
    assert not status.active, (
        f"{status.reason}: run the suite with CHATSIM_PURE=1 (./dev test does)"
    )
    assert not native.source_of("sim.kernel").with_suffix("").exists()  # no stray build


def _args(**given: bool) -> argparse.Namespace:
    return argparse.Namespace(check=given.get("check", False), if_stale=False)


def test_check_says_why_not(capsys: pytest.CaptureFixture[str]) -> None:
    assert compile_command.main(_args(check=True)) == 1
    assert "pure Python" in capsys.readouterr().out


def test_compile_without_mypyc_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(LocalError, match="needs mypy"):
        compile_command.main(_args())


def test_compile_without_a_c_compiler_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(LocalError, match="needs a C compiler"):
        compile_command.main(_args())


def _compiled_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != native.PURE_ENV}


def _build_is_current() -> bool:
    chatsim = shutil.which("chatsim", path=str(Path(sys.executable).parent))
    assert chatsim is not None
    check = [chatsim, "compile", "--check"]
    return (
        subprocess.run(check, env=_compiled_env(), capture_output=True, check=False).returncode == 0
    )


def _traces(out: Path, env: dict[str, str]) -> dict[str, bytes]:
    chatsim = str(Path(sys.executable).parent / "chatsim")
    out.mkdir()
    for example in EXAMPLES:
        trace = out / f"{example.stem}.jsonl"
        command = [chatsim, "run", str(example), "--quiet", "--trace", str(trace)]
        subprocess.run(command, env=env, cwd=ROOT, capture_output=True, check=False)
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


def _require_build() -> None:
    if not _build_is_current():
        if os.environ.get("CI"):
            pytest.fail("CI builds the compiled hot path (./dev): `chatsim compile --check` fails")
        pytest.skip("no current compiled build (chatsim compile)")


def _compiled_chatsim(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    chatsim = str(Path(sys.executable).parent / "chatsim")
    command = [chatsim, *args]
    return subprocess.run(
        command, env=_compiled_env(), cwd=cwd, capture_output=True, text=True, check=False
    )


def test_the_compiled_server_answers_hostile_frames() -> None:
    """Untrusted input meets the compiled code's types: every frame still gets its answer
    (a compiled function checks the declared type of what it is given)."""
    _require_build()
    done = _compiled_chatsim("bench", "--hostile", "300")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unanswered / 500 / 1006    0" in done.stdout


def test_a_compiled_fuzz_campaign_holds(tmp_path: Path) -> None:
    """Fault schedules with corruption and hostile replies, through the compiled cores."""
    _require_build()
    done = _compiled_chatsim(
        "fuzz", "--examples", "300", "--seed", "7", "--workers", "1", "--out", str(tmp_path)
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_the_compiled_build_writes_the_same_trace_bytes(tmp_path: Path) -> None:
    """Every example, run compiled and pure, in processes of their own: equal bytes."""
    _require_build()
    pure = _traces(tmp_path / "pure", {**os.environ, native.PURE_ENV: "1"})
    compiled = _traces(tmp_path / "compiled", _compiled_env())
    assert len(pure) == len(EXAMPLES)
    assert compiled.keys() == pure.keys()
    differing = [name for name in pure if compiled[name] != pure[name]]
    assert differing == []
