/*
 * Timeback Companion: the page side of the lesson bridge (the page's own script world).
 *
 * The app injects this script into every lesson page. It exposes exactly three calls:
 *
 *   window.companion.answer(item, response)  // item: a short text id. response: the
 *                                            // student's response (text or a number) when
 *                                            // the lesson's key is with the app, or
 *                                            // true/false when the page scores it itself.
 *                                            // Returns a Promise of the app's verdict:
 *                                            // {counted: bool, correct: bool|null, reason}.
 *   window.companion.media(playing)          // the page's own audio/video played or stopped
 *   window.companion.complete()              // the student finished the lesson
 *
 * The calls travel as DOM events to the app's own script world (companion-relay.js), which
 * alone holds the connection to the app; the page never sees that connection, so it can reach
 * nothing of the app but these three calls. Opened in a plain browser nobody answers: the
 * calls are only logged to the console and answer() resolves to nothing.
 */
(function () {
  "use strict";

  var PREFIX = "[companion]";
  var MAX_ITEM = 200;
  var MAX_RESPONSE = 1000;
  var MAX_WAITING = 1000;

  if (window.companion && window.companion.ready !== undefined) {
    return; // already installed (the script was injected twice)
  }

  var doc = window.document;
  var dispatch = EventTarget.prototype.dispatchEvent;
  var Custom = window.CustomEvent;
  var stringify = JSON.stringify;
  var parse = JSON.parse;
  var nextId = 1;
  var waiting = {};
  var waitingCount = 0;
  var connected = false;

  doc.addEventListener("companion:ready", function () {
    connected = true;
  });
  doc.addEventListener("companion:verdict", function (event) {
    var message;
    try {
      message = parse(String(event.detail));
    } catch (err) {
      return;
    }
    var done = message && waiting[message.id];
    if (typeof done === "function") {
      delete waiting[message.id];
      waitingCount -= 1;
      done(message.verdict);
    }
  });

  function send(name, args, resolve) {
    var id = nextId;
    nextId += 1;
    if (resolve && waitingCount < MAX_WAITING) {
      waiting[id] = resolve; // before sending: the verdict may come back at once
      waitingCount += 1;
    }
    dispatch.call(doc, new Custom("companion:call", {
      detail: stringify({ id: id, name: name, args: args }),
    }));
    if (!connected) {
      console.info(PREFIX, "(no app yet) " + name);
    }
  }

  var api = {
    answer: function (item, response) {
      if (typeof item === "number" && isFinite(item)) {
        item = String(item);
      }
      if (typeof item !== "string" || item.length === 0 || item.length > MAX_ITEM) {
        console.warn(PREFIX, "answer() needs an item id (text), got", typeof item);
        return Promise.resolve({ counted: false, correct: null, reason: "no item id" });
      }
      if (typeof response === "number" && isFinite(response)) {
        response = String(response);
      }
      if (typeof response !== "boolean" && typeof response !== "string") {
        console.warn(PREFIX, "answer() needs the response (text) or true/false for", item);
        return Promise.resolve({ counted: false, correct: null, reason: "no response" });
      }
      if (typeof response === "string" && response.length > MAX_RESPONSE) {
        response = response.slice(0, MAX_RESPONSE + 1); // the app refuses it, shortened
      }
      return new Promise(function (resolve) {
        send("answer", [item, response], resolve);
      });
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
      return connected;
    },
  });
  Object.freeze(api);
  Object.defineProperty(window, "companion", {
    value: api,
    writable: false,
    configurable: false,
    enumerable: true,
  });
})();
