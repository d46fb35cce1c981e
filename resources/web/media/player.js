/*
 * Timeback Companion: the media lesson page.
 *
 * Served at lesson://<lesson>/__companion__/media/player.html#<file>, it plays the lesson's
 * own audio or video file (the fragment, a path inside the lesson) and tells the app when
 * it plays and stops, through window.companion.media(playing): attended time counts only
 * while the media plays and the session window is in front.
 */
(function () {
  "use strict";

  function report(playing) {
    if (window.companion) {
      window.companion.media(playing);
    }
  }

  function start() {
    var media = document.getElementById("media");
    var file = decodeURIComponent(window.location.hash.replace(/^#/, ""));
    if (!file || /^[a-z]+:/i.test(file) || file.indexOf("..") !== -1) {
      return;
    }
    media.addEventListener("playing", function () { report(true); });
    ["pause", "ended", "emptied", "error"].forEach(function (name) {
      media.addEventListener(name, function () { report(false); });
    });
    media.src = "/" + file.replace(/^\/+/, "");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
