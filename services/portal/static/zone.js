// Sends the browser's time zone with the sign-in, so that times are shown in the person's own zone.
(function () {
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  document.querySelectorAll("input.browser-zone").forEach(function (input) { input.value = zone; });
})();
