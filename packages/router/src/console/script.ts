/**
 * The console's only script, inlined with the response's nonce. Progressive: every page works
 * without it. It counts deadlines down (`[data-deadline]`) and appends a session's events to its
 * timeline as they happen (`ol[data-events]`), reading the console's event stream with `fetch`
 * (so every event type arrives, named or not) and resuming after the last event it showed.
 */
export const CONSOLE_JS = `
(function () {
  "use strict";
  function left(ms) {
    if (ms <= 0) return "passed";
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    var parts = d > 0 ? [d + "d", h + "h"] : h > 0 ? [h + "h", m + "m"] : [m + "m", (s % 60) + "s"];
    return "in " + parts.join(" ");
  }
  var clocks = document.querySelectorAll("[data-deadline]");
  function tick() {
    for (var i = 0; i < clocks.length; i++) clocks[i].textContent = left(Date.parse(clocks[i].getAttribute("data-deadline")) - Date.now());
  }
  if (clocks.length > 0) { tick(); setInterval(tick, 1000); }

  var list = document.querySelector("ol[data-events]");
  if (!list || !window.fetch || !window.TextDecoder) return;
  var status = document.getElementById("live-status");
  var last = list.getAttribute("data-since") || "";
  function show(event) {
    var item = document.createElement("li");
    item.className = "new";
    var when = document.createElement("span");
    when.className = "muted mono";
    when.textContent = event.timestamp + " ";
    var type = document.createElement("strong");
    type.textContent = event.type;
    var payload = document.createElement("pre");
    payload.textContent = JSON.stringify(event.payload, null, 2);
    item.appendChild(when); item.appendChild(type); item.appendChild(payload);
    list.appendChild(item);
    last = event.id;
    if (status) status.textContent = "New event: " + event.type;
  }
  function frame(text) {
    var data = [];
    text.split("\\n").forEach(function (line) { if (line.indexOf("data:") === 0) data.push(line.slice(5).trim()); });
    if (data.length === 0) return;
    try { show(JSON.parse(data.join("\\n"))); } catch (e) { /* not an event */ }
  }
  function connect() {
    var url = list.getAttribute("data-events") + (last ? "?since=" + encodeURIComponent(last) : "");
    fetch(url, { headers: { accept: "text/event-stream" }, credentials: "same-origin" }).then(function (response) {
      if (!response.ok || !response.body) throw new Error("stream " + response.status);
      if (status) status.textContent = "Live";
      list.setAttribute("data-live", "true");
      var reader = response.body.getReader(), decoder = new TextDecoder(), buffer = "";
      function read() {
        return reader.read().then(function (chunk) {
          if (chunk.done) return;
          buffer += decoder.decode(chunk.value, { stream: true });
          var end;
          while ((end = buffer.indexOf("\\n\\n")) >= 0) { frame(buffer.slice(0, end)); buffer = buffer.slice(end + 2); }
          return read();
        });
      }
      return read();
    }).then(function () { setTimeout(connect, 2000); }, function () {
      if (status) status.textContent = "Disconnected; retrying";
      setTimeout(connect, 5000);
    });
  }
  connect();
})();
`;
