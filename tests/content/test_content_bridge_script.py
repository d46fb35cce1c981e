"""The page-side bridge, run under node with a stand-in for the app's relay (the isolated
world's side, which answers "companion:call" events with "companion:verdict" ones)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from companion.content import bridge_script_path

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")

# Runs the bridge in a fresh context and prints what reached the relay, what the page got
# back and the console. `mode` is "app" (a relay that answers) or "browser" (nobody).
HARNESS = r"""
const fs = require("fs");
const vm = require("vm");
const source = fs.readFileSync(process.argv[2], "utf8");
const mode = process.argv[3];
const calls = [];
const logs = [];
const log = (level) => (...args) => logs.push([level, args.map(String).join(" ")]);
const document = new EventTarget();
const window = { document, CustomEvent };
if (mode === "app") {
  document.addEventListener("companion:call", (event) => {
    const call = JSON.parse(event.detail);
    calls.push([call.name, ...call.args]);
    if (call.name === "answer") {
      const verdict = { counted: true, correct: call.args[1] === "12", reason: "" };
      document.dispatchEvent(new CustomEvent("companion:verdict",
        { detail: JSON.stringify({ id: call.id, verdict }) }));
    }
  });
}
const context = vm.createContext({
  window, EventTarget, JSON, Promise, console: { info: log("info"), warn: log("warn") },
});
vm.runInContext(source, context);
vm.runInContext(source, context);  // a second injection must change nothing
const api = window.companion;
const before = api.ready;
if (mode === "app") { document.dispatchEvent(new CustomEvent("companion:ready")); }
const verdicts = [];
api.answer("q1", "12").then((v) => verdicts.push(["q1", v]));
api.media(true);
api.answer("q2", true).then((v) => verdicts.push(["q2", v]));
api.answer("", false).then((v) => verdicts.push(["empty", v]));
api.media("no");
api.answer(7, 12).then((v) => verdicts.push(["7", v]));
api.answer("q3", {}).then((v) => verdicts.push(["object", v]));
api.answer("q4", "x".repeat(5000));
api.complete();
let replaced = true;
try { window.companion = {}; replaced = window.companion !== api; } catch (e) { replaced = false; }
setTimeout(() => console.log(JSON.stringify({
  calls, logs, verdicts, before, after: api.ready, replaced,
  keys: Object.keys(api), frozen: Object.isFrozen(api),
})), 0);
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
def test_calls_reach_the_relay_in_order_and_verdicts_come_back(tmp_path: Path) -> None:
    out = _run(tmp_path, "app")
    assert out["calls"] == [
        ["answer", "q1", "12"],
        ["media", True],
        ["answer", "q2", True],
        ["answer", "7", "12"],
        ["answer", "q4", "x" * 1001],  # shortened: the app refuses it
        ["complete"],
    ]
    good = {"counted": True, "correct": True, "reason": ""}
    assert ["q1", good] in out["verdicts"] and ["7", good] in out["verdicts"]
    refused = dict((name, v) for name, v in out["verdicts"] if name in ("empty", "object"))
    assert refused == {"empty": {"counted": False, "correct": None, "reason": "no item id"},
                       "object": {"counted": False, "correct": None, "reason": "no response"}}
    assert (out["before"], out["after"]) == (False, True)
    assert out["keys"] == ["answer", "media", "complete"]
    assert out["frozen"] is True
    assert out["replaced"] is False
    warnings = [text for level, text in out["logs"] if level == "warn"]
    assert len(warnings) == 3  # the bad answers and the bad media call
    assert all("yes" not in text for text in warnings)  # never echoes what was given


@needs_node
def test_in_a_plain_browser_nobody_answers(tmp_path: Path) -> None:
    out = _run(tmp_path, "browser")
    assert out["calls"] == []
    assert out["after"] is False
    assert [name for name, _ in out["verdicts"]] == ["empty", "object"]  # refused at once
    infos = [text for level, text in out["logs"] if level == "info"]
    assert sum("(no app yet) answer" in text for text in infos) == 4
    assert sum("(no app yet) complete" in text for text in infos) == 1
