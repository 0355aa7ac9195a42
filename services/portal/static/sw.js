// The portal's service worker: attendance sheets and the files they need stay usable without a network.
// Network first (a sheet is fresh whenever the network is there), the last copy when it is not.
var CACHE = "t4t-portal-v1";
var SHELL = ["/static/portal.css", "/static/attendance.js"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); }));
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) { return n !== CACHE; }).map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function kept(request) {
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || request.method !== "GET") { return false; }
  return url.pathname.indexOf("/static/") === 0 || /^\/sessions\/[^/]+\/attendance$/.test(url.pathname);
}

self.addEventListener("fetch", function (event) {
  if (!kept(event.request)) { return; }
  var key = new URL(event.request.url).pathname;  // one copy per sheet, whatever its query string
  event.respondWith(
    fetch(event.request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(key, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(key).then(function (cached) {
        return cached || new Response("<!doctype html><title>Offline</title><p>Offline, and this page was not opened here before.</p>",
          { status: 503, headers: { "Content-Type": "text/html" } });
      });
    })
  );
});
