// The edition page's progress box (newsletter/admin/digest_progress.py): while the edition is
// sending, fetch the box alone every few seconds and swap it in; the box comes from the edition's
// counters, so polling never counts its rows. When the edition stops sending, reload the page once
// so the status and the final counts are shown.
(function () {
  "use strict";

  function schedule() {
    var box = document.getElementById("edition-progress");
    if (!box || box.getAttribute("data-live") !== "1") {
      return;
    }
    var every = (parseInt(box.getAttribute("data-every"), 10) || 5) * 1000;
    window.setTimeout(function () {
      fetch(box.getAttribute("data-url"), { credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html === null) {
            schedule();
            return;
          }
          var holder = document.createElement("div");
          holder.innerHTML = html.trim();
          var fresh = holder.firstElementChild;
          if (!fresh) {
            schedule();
            return;
          }
          box.replaceWith(fresh);
          if (fresh.getAttribute("data-live") !== "1") {
            window.location.reload();
            return;
          }
          schedule();
        })
        .catch(schedule);
    }, every);
  }

  document.addEventListener("DOMContentLoaded", schedule);
})();
