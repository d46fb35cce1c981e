/*
 * Timeback Companion: the app's side of the lesson bridge, in the app's own isolated script
 * world (after qrc:///qtwebchannel/qwebchannel.js, in the same world).
 *
 * Only this world holds the QWebChannel connection. It takes the page's calls (DOM events
 * "companion:call" from companion-bridge.js), keeps only answer, media and complete with
 * bounded arguments, sends them to the app and hands the app's verdict on an answer back to
 * the page ("companion:verdict"). The page cannot reach this world's objects.
 */
(function () {
  "use strict";

  var MAX_CALL = 8192; // characters of one call as the page sent it
  var MAX_TEXT = 1001; // longer text arrives shortened (and the app refuses it)
  var MAX_PENDING = 1000;
  var NAMES = { answer: 2, media: 1, complete: 0 };

  var transport = window.qt && window.qt.webChannelTransport;
  if (typeof window.QWebChannel !== "function" || !transport) {
    return;
  }
  var bridge = null;
  var pending = [];

  function reply(id, verdict) {
    document.dispatchEvent(new CustomEvent("companion:verdict", {
      detail: JSON.stringify({ id: id, verdict: verdict }),
    }));
  }

  function bounded(value) {
    if (typeof value === "string") {
      return value.length > MAX_TEXT ? value.slice(0, MAX_TEXT) : value;
    }
    return typeof value === "boolean" ? value : null;
  }

  function deliver(call) {
    if (call.name === "answer") {
      bridge.answer(call.args[0], call.args[1], function (verdict) {
        reply(call.id, verdict);
      });
    } else if (call.name === "media") {
      bridge.media(call.args[0]);
    } else {
      bridge.complete();
    }
  }

  document.addEventListener("companion:call", function (event) {
    var text = event.detail;
    if (typeof text !== "string" || text.length > MAX_CALL) {
      text = JSON.stringify({ id: 0, name: "answer", args: ["(a call too large)", null] });
    }
    var call;
    try {
      call = JSON.parse(text);
    } catch (err) {
      return;
    }
    if (!call || !Object.prototype.hasOwnProperty.call(NAMES, call.name)
        || !Array.isArray(call.args)) {
      return;
    }
    var args = [];
    for (var i = 0; i < NAMES[call.name]; i += 1) {
      args.push(bounded(call.args[i]));
    }
    var clean = { id: typeof call.id === "number" ? call.id : 0, name: call.name, args: args };
    if (bridge) {
      deliver(clean);
    } else if (pending.length < MAX_PENDING) {
      pending.push(clean);
    }
  });

  // The SCORM player page (the app's own, at /__companion__/scorm/) asks for its launch
  // data and hands on each run-time call through DOM events too: the package, in a frame of
  // that page, never sees the channel. Only call(name, element, value) and launch() reach
  // the app's "scorm" object, with bounded text.
  var scorm = null;
  var scormPending = [];

  function scormCall(detail) {
    var call;
    try {
      call = JSON.parse(detail);
    } catch (err) {
      return;
    }
    if (!call || typeof call !== "object") {
      return;
    }
    if (call.launch === true) {
      scorm.launch(function (text) {
        document.dispatchEvent(new CustomEvent("companion:scorm-launch", { detail: text }));
      });
      return;
    }
    var parts = [call.name, call.element, call.value].map(function (value) {
      return typeof value === "string" ? value.slice(0, MAX_CALL) : "";
    });
    scorm.call(parts[0], parts[1], parts[2]);
  }

  document.addEventListener("companion:scorm", function (event) {
    var text = event.detail;
    if (typeof text !== "string" || text.length > 4 * MAX_CALL) {
      return;
    }
    if (scorm) {
      scormCall(text);
    } else if (scormPending.length < MAX_PENDING) {
      scormPending.push(text);
    }
  });

  new window.QWebChannel(transport, function (channel) {
    bridge = channel.objects.companion;
    scorm = channel.objects.scorm || null;
    var queued = pending;
    pending = [];
    queued.forEach(deliver);
    if (scorm) {
      var waiting = scormPending;
      scormPending = [];
      waiting.forEach(scormCall);
    }
    document.dispatchEvent(new CustomEvent("companion:ready"));
  });
})();
