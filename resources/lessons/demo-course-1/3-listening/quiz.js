/*
 * Demo lesson quiz: checks each question once, gives feedback, reports to the app.
 *
 * Markup it expects (see index.html):
 *   <form class="question" data-item="id">   a typed answer (<input name="answer">) or a choice
 *                                            (<input type="radio" name="answer" value="b">)
 *   <ol class="questions" data-mode="steps">                 show one question at a time
 *   #progress, #summary, #score, #verdict, #finish, #done    progress and the end of the lesson
 *   <body data-mastery="0.9">                                the lesson's mastery threshold
 *   <button data-play-for="player-id">                       play/pause for an <audio>/<video>
 *
 * The answer key is in lesson.json, which only the app reads: each question sends the
 * student's response once with window.companion.answer(item, response), and the app's
 * verdict says right or wrong. The Finish button calls window.companion.complete(); the
 * page's own <audio>/<video> report media(true/false). Responses go to the app only.
 * This file is the same in every demo bundle (each bundle is self-contained).
 */
(function () {
  "use strict";

  // The app injects window.companion before the page's scripts run; opened on its own in a
  // browser the page still works, it just has nobody to report to.
  function connected() {
    return typeof window.companion === "object" && window.companion !== null;
  }
  var PRAISE = ["Correct!", "Well done!", "Yes, that's right!", "Great thinking!"];

  var forms = Array.prototype.slice.call(document.querySelectorAll("form.question"));
  var list = document.querySelector("ol.questions");
  var stepByStep = list !== null && list.getAttribute("data-mode") === "steps";
  var progress = document.getElementById("progress");
  var summary = document.getElementById("summary");
  var finish = document.getElementById("finish");
  var done = document.getElementById("done");
  var mastery = parseFloat(document.body.getAttribute("data-mastery") || "0.9");
  var results = {};
  var checking = {}; // items sent to the app, waiting for its verdict

  function normalise(text) {
    return String(text).trim().replace(/\s+/g, " ").toLowerCase();
  }

  function given(form) {
    var radios = form.querySelectorAll('input[type="radio"][name="answer"]');
    if (radios.length > 0) {
      for (var i = 0; i < radios.length; i += 1) {
        if (radios[i].checked) {
          return radios[i].value;
        }
      }
      return "";
    }
    var field = form.querySelector('[name="answer"]');
    return field ? field.value : "";
  }

  function lock(form) {
    var controls = form.querySelectorAll("input, button, select, textarea");
    for (var i = 0; i < controls.length; i += 1) {
      controls[i].disabled = true;
    }
  }

  function firstControl(form) {
    return form.querySelector("input, select, textarea, button");
  }

  function setFeedback(form, text, kind) {
    var box = form.querySelector(".feedback");
    box.textContent = text;
    box.className = "feedback" + (kind ? " " + kind : "");
  }

  function answeredCount() {
    return Object.keys(results).length;
  }

  function showStep() {
    if (!stepByStep) {
      return;
    }
    var shown = false;
    forms.forEach(function (form) {
      var item = form.parentElement;
      var answered = results.hasOwnProperty(form.getAttribute("data-item"));
      var isNext = !answered && !shown;
      item.hidden = !(answered || isNext);
      if (isNext) {
        shown = true;
      }
    });
  }

  function updateProgress() {
    if (progress) {
      progress.textContent = answeredCount() + " of " + forms.length + " answered";
    }
  }

  function showSummary() {
    var correct = 0;
    Object.keys(results).forEach(function (key) {
      if (results[key]) {
        correct += 1;
      }
    });
    var share = forms.length ? correct / forms.length : 0;
    document.getElementById("score").textContent =
      "You answered " + correct + " of " + forms.length + " questions correctly (" +
      Math.round(share * 100) + " %).";
    document.getElementById("verdict").textContent =
      share + 1e-9 >= mastery
        ? "That is mastery: the next lesson will open when you finish."
        : "To master this lesson you need " + Math.round(mastery * 100) +
          " %. Finish now and have another go later!";
    summary.hidden = false;
    var heading = summary.querySelector("h2");
    (heading || finish).focus();
  }

  function nextFocus(form) {
    var index = forms.indexOf(form);
    for (var i = index + 1; i < forms.length; i += 1) {
      if (!results.hasOwnProperty(forms[i].getAttribute("data-item"))) {
        return firstControl(forms[i]);
      }
    }
    for (var j = 0; j < index; j += 1) {
      if (!results.hasOwnProperty(forms[j].getAttribute("data-item"))) {
        return firstControl(forms[j]);
      }
    }
    return null;
  }

  function onSubmit(event) {
    event.preventDefault();
    var form = event.currentTarget;
    var item = form.getAttribute("data-item");
    if (results.hasOwnProperty(item) || checking[item]) {
      return;
    }
    var value = given(form);
    if (normalise(value) === "") {
      setFeedback(form, form.querySelector('input[type="radio"]')
        ? "Choose an answer, then press Check."
        : "Type your answer, then press Check.", "hint");
      firstControl(form).focus();
      return;
    }
    if (!connected()) {
      setFeedback(form, "Only the app can check this answer.", "hint");
      return;
    }
    lock(form);
    checking[item] = true;
    setFeedback(form, "Checking…", "hint");
    window.companion.answer(item, value).then(function (verdict) {
      delete checking[item];
      if (!verdict || !verdict.counted) {
        var again = verdict && /sooner/.test(verdict.reason || "");
        setFeedback(form, again ? "Not so fast: take a second, then press Check again."
          : "That answer could not be checked.", "hint");
        unlock(form);
        return;
      }
      showVerdict(form, item, verdict.correct === true);
    });
  }

  function unlock(form) {
    var controls = form.querySelectorAll("input, button, select, textarea");
    for (var i = 0; i < controls.length; i += 1) {
      controls[i].disabled = false;
    }
    firstControl(form).focus();
  }

  function showVerdict(form, item, correct) {
    results[item] = correct;
    if (correct) {
      setFeedback(form, "✓ " + PRAISE[answeredCount() % PRAISE.length], "right");
    } else {
      var why = form.getAttribute("data-explain");
      setFeedback(form, "✗ Not quite." + (why ? " " + why : ""), "wrong");
    }
    updateProgress();
    showStep();
    var next = nextFocus(form);
    if (next) {
      next.focus();
    } else {
      showSummary();
    }
  }

  forms.forEach(function (form) {
    form.addEventListener("submit", onSubmit);
  });

  if (finish) {
    finish.addEventListener("click", function () {
      finish.disabled = true;
      if (connected()) {
        window.companion.complete();
      }
      done.textContent = "Lesson complete. Well done, and see you in the next one!";
      done.focus();
    });
  }

  // Report the page's own audio and video: playing while any of them plays.
  var players = Array.prototype.slice.call(document.querySelectorAll("audio, video"));
  var playing = false;
  function reportMedia() {
    var now = players.some(function (p) {
      return !p.paused && !p.ended;
    });
    if (now !== playing) {
      playing = now;
      if (connected()) {
        window.companion.media(now);
      }
    }
  }
  players.forEach(function (player) {
    player.addEventListener("play", reportMedia);
    player.addEventListener("playing", reportMedia);
    player.addEventListener("pause", reportMedia);
    player.addEventListener("ended", reportMedia);
  });

  // <button data-play-for="id">: a big play/pause button for the player with that id.
  var toggles = document.querySelectorAll("button[data-play-for]");
  Array.prototype.forEach.call(toggles, function (button) {
    var player = document.getElementById(button.getAttribute("data-play-for"));
    if (!player) {
      return;
    }
    var playLabel = button.textContent;
    function relabel() {
      button.textContent = player.paused || player.ended ? playLabel : "Pause";
      button.setAttribute("aria-pressed", player.paused || player.ended ? "false" : "true");
    }
    button.addEventListener("click", function () {
      if (player.paused || player.ended) {
        var started = player.play();
        if (started && typeof started.catch === "function") {
          started.catch(function () {});
        }
      } else {
        player.pause();
      }
    });
    ["play", "pause", "ended"].forEach(function (name) {
      player.addEventListener(name, relabel);
    });
    relabel();
  });

  showStep();
  updateProgress();
})();
