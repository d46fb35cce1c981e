"""The page-side bridge, run under node with a stand-in for Qt's QWebChannel."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from companion.content import bridge_script_path, demo_lessons_path

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")

# Runs the bridge in a fresh context per scenario and prints what reached the app and the
# console. `mode` is "qt" (a channel with a companion object), "no-object" (a channel
# without one) or "browser" (no Qt at all).
HARNESS = r"""
const fs = require("fs");
const vm = require("vm");
const source = fs.readFileSync(process.argv[2], "utf8");
const mode = process.argv[3];
const calls = [];
const logs = [];
let connect = null;
const log = (level) => (...args) => logs.push([level, args.map(String).join(" ")]);
const window = {};
if (mode !== "browser") {
  window.qt = { webChannelTransport: {} };
  window.QWebChannel = function (transport, ready) { connect = ready; };
}
const context = vm.createContext({ window, console: { info: log("info"), warn: log("warn") } });
vm.runInContext(source, context);
vm.runInContext(source, context);  // a second injection must change nothing
const api = window.companion;
const before = api.ready;
api.answer("q1", true);
api.media(true);
api.answer("q2", "yes");
api.answer("", false);
api.media("no");
api.answer(7, false);
api.complete();
const queuedBeforeConnect = calls.length;
if (connect) {
  const companion = {
    answer: (item, correct) => calls.push(["answer", item, correct]),
    media: (playing) => calls.push(["media", playing]),
    complete: () => calls.push(["complete"]),
  };
  connect({ objects: mode === "qt" ? { companion } : {} });
}
api.answer("q3", false);
api.media(false);
let replaced = true;
try { window.companion = {}; replaced = window.companion !== api; } catch (e) { replaced = false; }
console.log(JSON.stringify({
  calls, logs, queuedBeforeConnect, before, after: api.ready, replaced,
  keys: Object.keys(api), frozen: Object.isFrozen(api),
}));
"""


def _run(tmp_path: Path, mode: str) -> dict[str, Any]:
    assert NODE is not None
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS, encoding="utf-8")
    done = subprocess.run(
        [NODE, str(harness), str(bridge_script_path()), mode],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@needs_node
def test_calls_before_the_channel_is_ready_are_queued_then_sent_in_order(tmp_path: Path) -> None:
    out = _run(tmp_path, "qt")
    assert out["queuedBeforeConnect"] == 0
    assert out["calls"] == [
        ["answer", "q1", True],
        ["media", True],
        ["answer", "7", False],
        ["complete"],
        ["answer", "q3", False],
        ["media", False],
    ]
    assert (out["before"], out["after"]) == (False, True)
    assert out["keys"] == ["answer", "media", "complete"]
    assert out["frozen"] is True
    assert out["replaced"] is False
    warnings = [text for level, text in out["logs"] if level == "warn"]
    assert len(warnings) == 3  # the bad answer (twice) and the bad media call
    assert all("yes" not in text for text in warnings)  # never echoes what was given


@needs_node
def test_plain_browser_only_logs(tmp_path: Path) -> None:
    out = _run(tmp_path, "browser")
    assert out["calls"] == []
    assert out["after"] is False
    infos = [text for level, text in out["logs"] if level == "info"]
    assert infos[0].startswith("[companion] not running inside Timeback Companion")
    assert sum("(no app) answer" in text for text in infos) == 3
    assert sum("(no app) complete" in text for text in infos) == 1


@needs_node
def test_channel_without_companion_object_falls_back_to_logging(tmp_path: Path) -> None:
    out = _run(tmp_path, "no-object")
    assert out["calls"] == []
    infos = [text for level, text in out["logs"] if level == "info"]
    assert any('offers no "companion" object' in text for text in infos)
    assert sum("(no app) answer" in text for text in infos) == 3  # queued ones, then q3


@needs_node
@pytest.mark.parametrize(
    "script",
    [bridge_script_path(), *sorted(demo_lessons_path().rglob("*.js"))],
    ids=lambda p: p.parent.name + "/" + p.name,
)
def test_javascript_parses(script: Path) -> None:
    assert NODE is not None
    done = subprocess.run([NODE, "--check", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
