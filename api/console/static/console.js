// Live queue: a server-sent event says the queue changed; fetch the rows and swap them in.
// Focus moves to the first message of a page after an action, for screen-reader users.
(function () {
  "use strict";
  var notice = document.getElementById("done") || document.getElementById("error");
  if (notice) { notice.focus(); }

  var queue = document.getElementById("queue");
  if (!queue || !window.EventSource) { return; }
  var status = document.getElementById("live-status");

  function idsIn(root) {
    var ids = {};
    root.querySelectorAll("tr[data-handover-id]").forEach(function (tr) {
      ids[tr.getAttribute("data-handover-id")] = true;
    });
    return ids;
  }

  function refresh() {
    fetch(queue.getAttribute("data-rows-url"), {credentials: "same-origin"})
      .then(function (r) {
        if (r.redirected || r.status === 401) { window.location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html === null) { return; }
        var before = idsIn(queue);
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = 0, urgent = 0;
        holder.querySelectorAll("tr[data-handover-id]").forEach(function (tr) {
          if (!before[tr.getAttribute("data-handover-id")]) {
            fresh += 1;
            tr.classList.add("new-row");
            if (tr.querySelector(".tag-urgent")) { urgent += 1; }
          }
        });
        queue.innerHTML = holder.innerHTML;
        if (fresh && status) {
          status.textContent = fresh + " new handover" + (fresh > 1 ? "s" : "") +
            (urgent ? ", " + urgent + " urgent" : "") + ".";
        }
      })
      .catch(function () { /* the next event tries again */ });
  }

  var source = new EventSource(queue.getAttribute("data-events-url"));
  source.addEventListener("queue", refresh);
  source.addEventListener("open", function () { queue.setAttribute("data-live", "on"); });
  // Keep "due in" labels honest even when nothing changes.
  setInterval(refresh, 60000);
})();
