/*
 * Timeback Companion: the SCORM player page.
 *
 * Served at lesson://<lesson>/__companion__/scorm/player.html, so that the package, loaded in
 * the frame below from the same lesson:// origin, finds the run-time API the way SCORM
 * content looks for it: in its parent chain (window.API for SCORM 1.2, window.API_1484_11
 * for SCORM 2004). The data model and its validation are scorm-again's (its pinned browser
 * build beside this file). Each call the package makes is counted and forwarded, in order,
 * to the app's "scorm" QWebChannel object; for SetValue only the values scorm-again
 * accepted, with the element and value. The app sends back, once, what to launch and the
 * data to start from (the learner, the saved place, the mastery score).
 */
(function () {
  "use strict";

  var NAMES = {
    "1.2": ["LMSInitialize", "LMSFinish", "LMSGetValue", "LMSSetValue", "LMSCommit",
            "LMSGetLastError", "LMSGetErrorString", "LMSGetDiagnostic"],
    "2004": ["Initialize", "Terminate", "GetValue", "SetValue", "Commit",
             "GetLastError", "GetErrorString", "GetDiagnostic"],
  };

  function facadeFor(api, names, bridge) {
    var facade = {};
    names.forEach(function (name) {
      facade[name] = function (a, b) {
        var result = api[name].apply(api, arguments);
        var accepted = /SetValue$/.test(name) && String(result) === "true";
        bridge.call(name, accepted ? String(a) : "", accepted ? String(b) : "");
        return result;
      };
    });
    return Object.freeze(facade);
  }

  function start(bridge, config) {
    var Api = config.api === "1.2" ? window.Scorm12API : window.Scorm2004API;
    var api = new Api({ autocommit: false, lmsCommitUrl: false, logLevel: 5 });
    api.loadFromJSON(config.cmi, "");
    var facade = facadeFor(api, NAMES[config.api], bridge);
    Object.defineProperty(window, config.api === "1.2" ? "API" : "API_1484_11", {
      value: facade, writable: false, configurable: false, enumerable: true,
    });
    document.title = config.title || document.title;
    document.getElementById("sco").src = config.href;
  }

  // The lesson bridge (companion-bridge.js) opened the page's channel first; the player
  // opens its own once that one has settled, so the two never wait on the same reply.
  function whenBridgeSettled(then) {
    var waited = 0;
    (function check() {
      if (!window.companion || window.companion.ready || waited > 2000) {
        then();
      } else {
        waited += 10;
        setTimeout(check, 10);
      }
    })();
  }

  function connect() {
    var transport = window.qt && window.qt.webChannelTransport;
    if (typeof window.QWebChannel !== "function" || !transport) {
      console.warn("[companion] the SCORM player runs only inside Timeback Companion");
      return;
    }
    whenBridgeSettled(function () { open(transport); });
  }

  function open(transport) {
    new window.QWebChannel(transport, function (channel) {
      var bridge = channel.objects.scorm;
      if (!bridge) {
        console.warn("[companion] the app offers no SCORM run-time here");
        return;
      }
      bridge.launch(function (text) {
        start(bridge, JSON.parse(text));
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", connect);
  } else {
    connect();
  }
})();
