"""The demo pages, driven in Qt WebEngine (offscreen) with a recording window.companion.

The pages are loaded from file: URLs, so this tests the pages' own behaviour (one answer
per question, feedback, completion, media reports, keyboard focus), not the app's scheme.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from companion.content import demo_lessons_path

os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu --disable-logging --log-level=3")
os.environ.setdefault("QSG_RHI_BACKEND", "null")

QtCore = pytest.importorskip("PySide6.QtCore")
QtWebEngineCore = pytest.importorskip("PySide6.QtWebEngineCore")
shiboken6 = pytest.importorskip("shiboken6")

if QtCore.QCoreApplication.instance() is None:
    QtCore.QCoreApplication.setAttribute(QtCore.Qt.ApplicationAttribute.AA_ShareOpenGLContexts)

# Offscreen there is no GPU; Chromium says so once, harmlessly.
pytestmark = pytest.mark.qt_log_ignore(
    r"^Unable to detect GPU vendor for device: Null$",
    r"^GPUInfo not initialized on GpuInfoUpdate$",
)

COURSE = demo_lessons_path() / "demo-course-1"
# A stand-in for the app: it records each call and scores answers with the key it is
# given (as the app does with lesson.json's answerKey), answering with a verdict.
RECORDER = """
window.__calls = [];
window.__key = {};
window.companion = {
  answer: function (item, response) {
    window.__calls.push(["answer", item, response]);
    var ok = String(response).trim().toLowerCase() === window.__key[item];
    return Promise.resolve({counted: true, correct: ok, reason: ""});
  },
  media: function (playing) { window.__calls.push(["media", playing]); },
  complete: function () { window.__calls.push(["complete"]); },
};
"""
# Answers every question from the key, except the items listed as wrong, submitting each
# twice (the second must not report again); then clicks Finish; reports in the title.
DRIVE = """
(async function (wrong, key) {
  window.__key = key;
  var tick = function () { return new Promise(function (ok) { setTimeout(ok, 0); }); };
  var trace = [];
  var hiddenAtStart = Array.prototype.map.call(
    document.querySelectorAll("ol.questions > li"), function (li) { return li.hidden; });
  var forms = Array.prototype.slice.call(document.querySelectorAll("form.question"));
  for (var f = 0; f < forms.length; f += 1) {
    var form = forms[f];
    var item = form.getAttribute("data-item");
    var answer = key[item];
    var li = form.parentElement;
    trace.push({item: item, shown: !li.hidden});
    var radios = form.querySelectorAll('input[type="radio"]');
    form.requestSubmit();  /* empty: only a hint */
    var hint = form.querySelector(".feedback").className;
    if (radios.length) {
      radios.forEach(function (r) {
        r.checked = wrong.indexOf(item) >= 0 ? r.value !== answer : r.value === answer;
      });
    } else {
      form.querySelector("input").value = wrong.indexOf(item) >= 0 ? answer + "1" : " " + answer;
    }
    form.requestSubmit();
    form.requestSubmit();
    await tick();
    trace[trace.length - 1].hint = hint;
    trace[trace.length - 1].feedback = form.querySelector(".feedback").className;
    trace[trace.length - 1].focus = document.activeElement.id || document.activeElement.tagName;
  }
  var summaryShown = !document.getElementById("summary").hidden;
  document.getElementById("finish").click();
  document.getElementById("finish").click();
  document.title = "done:" + JSON.stringify({
    calls: window.__calls, trace: trace, summaryShown: summaryShown, hidden: hiddenAtStart,
    score: document.getElementById("score").textContent,
    verdict: document.getElementById("verdict").textContent,
  });
})(%s, %s);
1
"""
MEDIA = """
(function () {
  var audio = document.querySelector("audio");
  var paused = true;
  Object.defineProperty(audio, "paused", {get: function () { return paused; }});
  function fire(name, nowPaused) { paused = nowPaused; audio.dispatchEvent(new Event(name)); }
  fire("play", false); fire("playing", false); fire("pause", true);
  fire("play", false); fire("pause", true); fire("ended", true);
  return JSON.stringify(window.__calls);
})()
"""


@pytest.fixture
def page(qapp: Any) -> Iterator[Any]:
    profile = QtWebEngineCore.QWebEngineProfile()
    script = QtWebEngineCore.QWebEngineScript()
    script.setSourceCode(RECORDER)
    script.setInjectionPoint(QtWebEngineCore.QWebEngineScript.InjectionPoint.DocumentCreation)
    script.setWorldId(QtWebEngineCore.QWebEngineScript.ScriptWorldId.MainWorld)
    profile.scripts().insert(script)
    web_page = QtWebEngineCore.QWebEnginePage(profile)
    yield web_page
    shiboken6.delete(web_page)  # the page must go before its profile
    shiboken6.delete(profile)


def _open(qtbot: Any, page: Any, folder: str) -> None:
    with qtbot.waitSignal(page.loadFinished, timeout=30_000) as loaded:
        page.load(QtCore.QUrl.fromLocalFile(str(COURSE / folder / "index.html")))
    assert loaded.args == [True]


def _run(qtbot: Any, page: Any, code: str) -> Any:
    with qtbot.waitCallback(timeout=10_000) as callback:
        page.runJavaScript(code, 0, callback)
    return json.loads(callback.args[0])


CASES = {
    "1-math-drill": ["drill-3"],
    "2-reading-passage": [],
    "3-listening": ["bees-2"],
    "4-mastery-check": ["check-4"],
}


@pytest.mark.parametrize("folder", CASES)
def test_page_reports_each_answer_once_then_completion(qtbot: Any, page: Any, folder: str) -> None:
    wrong = CASES[folder]
    lesson = json.loads((COURSE / folder / "lesson.json").read_text(encoding="utf-8"))
    key = {item: accepted[0] for item, accepted in lesson["answerKey"].items()}
    _open(qtbot, page, folder)
    with qtbot.waitSignal(page.titleChanged, timeout=10_000,
                          check_params_cb=lambda t: t.startswith("done:")) as done:
        page.runJavaScript(DRIVE % (json.dumps(wrong), json.dumps(key)), 0)
    out = json.loads(done.args[0][len("done:"):])
    items = [t["item"] for t in out["trace"]]
    assert set(items) == set(key)  # the page asks exactly what the key holds
    sent = [c[2] for c in out["calls"][:-1]]
    assert out["calls"] == [["answer", i, r] for i, r in zip(items, sent, strict=True)] \
        + [["complete"]]
    for item, response in zip(items, sent, strict=True):  # the student's own response
        assert (response.strip() == key[item]) is (item not in wrong)
    assert [t["hint"] for t in out["trace"]] == ["feedback hint"] * len(items)
    assert [t["feedback"] for t in out["trace"]] == [
        "feedback " + ("wrong" if i in wrong else "right") for i in items
    ]
    # Focus moves on to the next question's first control, then to the summary.
    assert all(t["focus"] not in ("BODY", "") for t in out["trace"])
    assert out["trace"][-1]["focus"] == "summary-title"
    assert out["summaryShown"] is True
    right = len(items) - len(wrong)
    assert out["score"].startswith(f"You answered {right} of {len(items)} questions correctly")
    assert out["verdict"].startswith("That is mastery" if not wrong else "To master this lesson")
    assert all(t["shown"] for t in out["trace"])  # each visible when its turn comes
    steps = folder == "1-math-drill"  # the drill shows one question at a time
    assert out["hidden"] == [False] + [steps] * (len(items) - 1)


def test_listening_page_reports_media_changes_only(qtbot: Any, page: Any) -> None:
    _open(qtbot, page, "3-listening")
    calls = _run(qtbot, page, MEDIA)
    assert calls == [["media", True], ["media", False], ["media", True], ["media", False]]
