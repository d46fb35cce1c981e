/*
 * Timeback Companion: the page side of the lesson bridge.
 *
 * The app injects this script into every lesson page, after
 * qrc:///qtwebchannel/qwebchannel.js. It connects to the QWebChannel object named
 * "companion" and exposes exactly three calls to lesson pages:
 *
 *   window.companion.answer(item, correct)  // item: non-empty string id, correct: boolean
 *   window.companion.media(playing)         // the page's own audio/video played or stopped
 *   window.companion.complete()             // the student finished the lesson
 *
 * Calls made before the channel is ready are queued and sent, in order, once it is.
 * Opened in a plain browser (no Qt), the calls are only logged to the console.
 * Nothing here reads or sends what the student types; only item ids and true/false.
 */
(function () {
  "use strict";

  var PREFIX = "[companion]";
  var MAX_QUEUE = 1000;

  if (window.companion && window.companion.ready !== undefined) {
    return; // already installed (the script was injected twice)
  }

  var queue = [];
  var target = null;
  var plainBrowser = false;

  function deliver(call) {
    var method = target[call.name];
    if (typeof method !== "function") {
      console.warn(PREFIX, "the app does not offer", call.name);
      return;
    }
    try {
      method.apply(target, call.args);
    } catch (err) {
      console.warn(PREFIX, call.name, "failed:", err);
    }
  }

  function send(name, args) {
    var call = { name: name, args: args };
    if (target) {
      deliver(call);
    } else if (plainBrowser) {
      console.info(PREFIX, "(no app) " + name, args);
    } else if (queue.length < MAX_QUEUE) {
      queue.push(call);
    } else {
      console.warn(PREFIX, "too many calls before the app connected; dropped", name);
    }
  }

  function flush() {
    var pending = queue;
    queue = [];
    for (var i = 0; i < pending.length; i += 1) {
      deliver(pending[i]);
    }
  }

  var api = {
    answer: function (item, correct) {
      if (typeof item === "number" && isFinite(item)) {
        item = String(item);
      }
      if (typeof item !== "string" || item.length === 0 || item.length > 200) {
        console.warn(PREFIX, "answer() needs an item id (text), got", typeof item);
        return;
      }
      if (typeof correct !== "boolean") {
        console.warn(PREFIX, "answer() needs correct to be true or false for", item);
        return;
      }
      send("answer", [item, correct]);
    },
    media: function (playing) {
      if (typeof playing !== "boolean") {
        console.warn(PREFIX, "media() needs playing to be true or false");
        return;
      }
      send("media", [playing]);
    },
    complete: function () {
      send("complete", []);
    },
  };
  Object.defineProperty(api, "ready", {
    enumerable: false,
    get: function () {
      return target !== null;
    },
  });
  Object.freeze(api);
  Object.defineProperty(window, "companion", {
    value: api,
    writable: false,
    configurable: false,
    enumerable: true,
  });

  function useConsole(reason) {
    plainBrowser = true;
    console.info(PREFIX, reason + "; lesson calls are only logged here.");
    var pending = queue;
    queue = [];
    for (var i = 0; i < pending.length; i += 1) {
      console.info(PREFIX, "(no app) " + pending[i].name, pending[i].args);
    }
  }

  var transport = window.qt && window.qt.webChannelTransport;
  if (typeof window.QWebChannel !== "function" || !transport) {
    useConsole("not running inside Timeback Companion");
    return;
  }
  try {
    new window.QWebChannel(transport, function (channel) {
      var obj = channel.objects && channel.objects.companion;
      if (!obj) {
        useConsole("the app offers no \"companion\" object");
        return;
      }
      target = obj;
      flush();
    });
  } catch (err) {
    useConsole("cannot connect to the app (" + err + ")");
  }
})();
