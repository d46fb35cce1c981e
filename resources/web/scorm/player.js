/*
 * Timeback Companion: the SCORM player page.
 *
 * Served at lesson://<lesson>/__companion__/scorm/player.html, so that the package, loaded in
 * the frame below from the same lesson:// origin, finds the run-time API the way SCORM
 * content looks for it: in its parent chain (window.API for SCORM 1.2, window.API_1484_11
 * for SCORM 2004). The data model and its validation are scorm-again's (its pinned browser
 * build beside this file). Each call the package makes is counted and forwarded, in order,
 * to the app's "scorm" object (through the isolated relay, companion-relay.js, never
 * the channel itself); for SetValue only the values scorm-again
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

  // The app's side lives in the page's isolated world (companion-relay.js): the player
  // speaks to it with DOM events, so neither it nor the package ever holds the channel.
  var send = document.dispatchEvent.bind(document);
  var Custom = window.CustomEvent;
  var relay = {
    call: function (name, element, value) {
      send(new Custom("companion:scorm", {
        detail: JSON.stringify({ name: name, element: element, value: value }),
      }));
    },
  };

  function connect() {
    var started = false;
    document.addEventListener("companion:scorm-launch", function (event) {
      if (started || typeof event.detail !== "string") {
        return;
      }
      started = true;
      start(relay, JSON.parse(event.detail));
    });
    send(new Custom("companion:scorm", { detail: JSON.stringify({ launch: true }) }));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", connect);
  } else {
    connect();
  }
})();
