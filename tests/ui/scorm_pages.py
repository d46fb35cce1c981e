"""SCO pages written for the SCORM tests: each finds the API in its parent chain as SCORM
content does and plays a scripted scenario (``steps``: JavaScript run with ``api`` bound),
then records what it read in ``document.body.dataset`` for the test to look at."""

from __future__ import annotations

import json
from pathlib import Path

FIND_API = """
function findApi(name) {
  var win = window, tries = 0;
  while (!win[name] && win.parent && win.parent !== win && tries < 10) {
    tries += 1; win = win.parent;
  }
  return win[name] || null;
}
"""


def sco_page(api_name: str, steps: str) -> str:
    """A SCO that finds ``window.API`` or ``window.API_1484_11`` and runs ``steps``."""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>SCO</title></head>
<body><p>SCO</p><script>
{FIND_API}
var api = findApi({json.dumps(api_name)});
document.body.dataset.found = api ? "yes" : "no";
function note(key, value) {{ document.body.dataset[key] = String(value); }}
if (api) {{
{steps}
}}
note("done", "yes");
</script></body></html>"""


def scorm_12_steps(finish: bool = True, status: str = "passed") -> str:
    """Initialize, read the resume data, answer three interactions, score, suspend, finish."""
    return f"""
  note("init", api.LMSInitialize(""));
  note("entry", api.LMSGetValue("cmi.core.entry"));
  note("resumed", api.LMSGetValue("cmi.suspend_data"));
  note("where", api.LMSGetValue("cmi.core.lesson_location"));
  note("mastery", api.LMSGetValue("cmi.student_data.mastery_score"));
  note("launch", api.LMSGetValue("cmi.launch_data"));
  api.LMSSetValue("cmi.interactions.0.id", "q1");
  api.LMSSetValue("cmi.interactions.0.result", "correct");
  api.LMSSetValue("cmi.interactions.1.id", "q2");
  api.LMSSetValue("cmi.interactions.1.result", "wrong");
  api.LMSSetValue("cmi.interactions.2.id", "q3");
  api.LMSSetValue("cmi.interactions.2.result", "neutral");
  api.LMSSetValue("cmi.interactions.3.id", "q2");
  api.LMSSetValue("cmi.interactions.3.result", "correct");
  note("bad", api.LMSSetValue("cmi.core.score.raw", "not a number"));
  api.LMSSetValue("cmi.core.score.raw", "50");
  api.LMSSetValue("cmi.core.score.max", "100");
  api.LMSSetValue("cmi.core.lesson_status", "{status}");
  api.LMSSetValue("cmi.suspend_data", "slide=7");
  api.LMSSetValue("cmi.core.lesson_location", "slide-7");
  api.LMSSetValue("cmi.core.session_time", "00:12:30");
  api.LMSSetValue("cmi.core.exit", "suspend");
  note("commit", api.LMSCommit(""));
  {'note("finish", api.LMSFinish(""));' if finish else ""}
"""


def scorm_2004_steps() -> str:
    return """
  note("init", api.Initialize(""));
  note("entry", api.GetValue("cmi.entry"));
  note("passing", api.GetValue("cmi.scaled_passing_score"));
  note("threshold", api.GetValue("cmi.completion_threshold"));
  api.SetValue("cmi.interactions.0.id", "urn:q:1");
  api.SetValue("cmi.interactions.0.type", "true-false");
  api.SetValue("cmi.interactions.0.result", "correct");
  api.SetValue("cmi.interactions.1.id", "urn:q:2");
  api.SetValue("cmi.interactions.1.type", "true-false");
  api.SetValue("cmi.interactions.1.result", "incorrect");
  api.SetValue("cmi.interactions.2.id", "urn:q:3");
  api.SetValue("cmi.interactions.2.type", "numeric");
  api.SetValue("cmi.interactions.2.result", "0.5");
  api.SetValue("cmi.interactions.3.id", "urn:q:4");
  api.SetValue("cmi.interactions.3.type", "other");
  api.SetValue("cmi.interactions.3.result", "unanticipated");
  note("bad", api.SetValue("cmi.score.scaled", "2"));
  api.SetValue("cmi.score.scaled", "0.75");
  api.SetValue("cmi.completion_status", "completed");
  api.SetValue("cmi.success_status", "passed");
  api.SetValue("cmi.location", "page-3");
  api.SetValue("cmi.session_time", "PT5M");
  api.Commit("");
  note("finish", api.Terminate(""));
  note("again", api.Terminate(""));
"""


def pipwerks_page(wrapper: Path) -> str:
    """A SCO that talks to the LMS only through the pipwerks SCORM API wrapper, as many
    exported packages do (``wrapper``: the wrapper's script, copied beside the page)."""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>SCO</title>
<script>var exports = {{}};</script>
<script src="{wrapper.name}"></script></head><body><p>SCO</p><script>
var pipwerks = exports;
pipwerks.debug.isActive = false;
var scorm = pipwerks.SCORM;
scorm.version = "1.2";
var ok = scorm.init();
document.body.dataset.found = ok ? "yes" : "no";
scorm.set("cmi.interactions.0.id", "p1");
scorm.set("cmi.interactions.0.result", "correct");
scorm.set("cmi.core.lesson_status", "completed");
scorm.save();
scorm.quit();
document.body.dataset.done = "yes";
</script></body></html>"""
