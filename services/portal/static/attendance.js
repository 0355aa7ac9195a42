// Attendance that survives a poor connection. Each mark is queued in localStorage with its own key and the
// moment it was made, then sent to the portal, which writes it unless a later edit was made elsewhere
// (the later edit wins). A mark leaves the queue only when the server has acknowledged its key, so a lost
// answer means the same mark is sent again, never a second, different one.
(function () {
  "use strict";
  var form = document.querySelector("[data-attendance]");
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    // The page that registered the worker was not fetched through it: keep its copy now, for a reload offline.
    if (form && window.caches) {
      navigator.serviceWorker.ready.then(function () {
        return caches.open("t4t-portal-v1").then(function (cache) { return cache.add(location.pathname); });
      }).catch(function () {});
    }
  }
  if (!form) { return; }
  var storeKey = "t4t-attendance:" + form.dataset.session;
  var statusLine = document.getElementById("sync-status");
  var sending = false;

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || []; } catch (e) { return []; }
  }
  function store(queue) { localStorage.setItem(storeKey, JSON.stringify(queue)); }
  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }
  function say(text) { statusLine.textContent = text; }
  function rowOf(id) { return form.querySelector('[data-registration="' + id + '"]'); }
  function setState(id, text) {
    var row = rowOf(id);
    if (row) { row.querySelector("[data-state]").textContent = text; }
  }

  function markFrom(row) {
    var id = row.dataset.registration;
    var checked = row.querySelector("input[type=radio]:checked");
    if (!checked) { return null; }
    var mark = { key: newKey(), registration_id: id, status: checked.value, marked_at: new Date().toISOString() };
    if (checked.value === "partial") {
      var minutes = parseInt(row.querySelector("input[type=number]").value, 10);
      if (!(minutes > 0)) { setState(id, "Enter the minutes attended"); return null; }
      mark.minutes = minutes;
    }
    return mark;
  }

  function enqueue(row) {
    var mark = markFrom(row);
    if (!mark) { return; }
    var queue = load();
    queue.push(mark);
    store(queue);
    setState(mark.registration_id, "Saved on this device, not sent yet");
    sync();
  }

  function showQueue() {
    var queue = load();
    queue.forEach(function (mark) {
      var row = rowOf(mark.registration_id);
      if (!row) { return; }
      var radio = row.querySelector('input[value="' + mark.status + '"]');
      if (radio) { radio.checked = true; }
      if (mark.minutes) { row.querySelector("input[type=number]").value = mark.minutes; }
      setState(mark.registration_id, "Saved on this device, not sent yet");
    });
    return queue.length;
  }

  // The session's token against cross-site forgery (services/portal/csrf.py). A copy of the page kept
  // offline may hold the token of an earlier sign-in: then a fresh copy of the page gives today's.
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }
  function renewCsrfToken() {
    return fetch(location.pathname, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      return response.text();
    }).then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html").querySelector('meta[name="csrf-token"]');
      var meta = document.querySelector('meta[name="csrf-token"]');
      if (fresh && meta && fresh.content !== meta.content) { meta.content = fresh.content; return true; }
      return false;
    }).catch(function () { return false; });
  }

  function sync(renewed) {
    var queue = load();
    if (!queue.length) { return Promise.resolve(); }
    if (!navigator.onLine) {
      say("Offline: " + queue.length + " mark(s) kept on this device. They are sent when the network returns.");
      return Promise.resolve();
    }
    if (sending) { return Promise.resolve(); }
    sending = true;
    say("Sending " + queue.length + " mark(s)…");
    return fetch(form.dataset.sync, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify({ marks: queue })
    }).then(function (response) {
      if (response.status === 401 || response.redirected) {
        say("Sign in again to send the marks kept on this device.");
        return;
      }
      return response.json().then(function (answer) {
        if (response.status === 400 && answer.type === "csrf" && !renewed) {
          return renewCsrfToken().then(function (changed) {
            // Sent again once this round has ended (a timer runs after the "finally" below).
            if (changed) { setTimeout(function () { sync(true); }, 0); return; }
            say("Not sent: " + answer.title + ". The marks stay on this device.");
          });
        }
        if (!response.ok) {
          say("Not sent: " + (answer.title || "the server refused the marks") + ". They stay on this device.");
          return;
        }
        var done = {};
        (answer.applied || []).forEach(function (key) { done[key] = "Recorded"; });
        (answer.superseded || []).forEach(function (key) { done[key] = "Replaced by a later edit made elsewhere"; });
        queue.forEach(function (mark) { if (done[mark.key]) { setState(mark.registration_id, done[mark.key]); } });
        // Marks added while this request was in flight stay queued for the next round.
        store(load().filter(function (mark) { return !done[mark.key]; }));
        var left = load().length;
        say(left ? left + " mark(s) still to send." : "All marks are recorded.");
        if (left) { setTimeout(sync, 500); }
      });
    }).catch(function () {
      say("No connection: " + queue.length + " mark(s) kept on this device. They are sent when the network returns.");
    }).finally(function () { sending = false; });
  }

  form.addEventListener("change", function (event) {
    var row = event.target.closest("[data-registration]");
    if (row) { enqueue(row); }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    form.querySelectorAll("[data-registration]").forEach(function (row) {
      if (!load().some(function (m) { return m.registration_id === row.dataset.registration; }) &&
          row.querySelector("[data-state]").textContent.indexOf("Not marked") === 0) { enqueue(row); }
    });
    sync();
  });
  // Never sync as a listener itself: the event would arrive as sync's "renewed" argument, and a stale token
  // would then be refused without being renewed, so the marks waited for the next timer.
  window.addEventListener("online", function () { sync(); });
  window.addEventListener("offline", function () { sync(); });
  var waiting = showQueue();
  if (waiting) { say(waiting + " mark(s) kept on this device."); }
  sync();
  setInterval(sync, 15000);
})();
