/* Progressive enhancement of the newsletter signup forms (page and article box).
   Without JavaScript the form posts normally and the server renders the answer. With it, the
   form is sent with fetch (CSRF token in the X-CSRFToken header), and the server's generic
   message or field errors are shown in place. Any network failure falls back to a normal post. */
(function () {
  "use strict";
  function show(form, text, isError) {
    var status = form.querySelector(".signup-status");
    if (!status) { return; }
    status.textContent = text;
    status.className = "signup-status " + (isError ? "errorlist" : "notice");
  }
  function enhance(form) {
    if (form.dataset.enhanced) { return; }  // the script may be included twice on a page
    form.dataset.enhanced = "1";
    // The reader's time zone (IANA name) so the edition arrives at the edition hour their time.
    var zone = form.querySelector("input[name=time_zone]");
    try {
      if (zone && !zone.value && window.Intl) { zone.value = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; }
    } catch (ignored) { /* no Intl time zone support: the site's zone applies */ }
    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.FormData) { return; }
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      var token = form.querySelector("input[name=csrfmiddlewaretoken]");
      if (button) { button.disabled = true; }
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": token ? token.value : "" }
      }).then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      }).then(function (result) {
        if (result.ok && result.data.ok) {
          form.querySelectorAll("input[type=email], input[name=name]").forEach(function (input) { input.value = ""; });
          show(form, result.data.message, false);
        } else {
          var errors = result.data.errors || {};
          var messages = [];
          Object.keys(errors).forEach(function (field) {
            errors[field].forEach(function (error) { messages.push(error.message); });
          });
          show(form, messages.join(" "), true);
        }
      }).catch(function () {
        form.submit();
      }).finally(function () {
        if (button) { button.disabled = false; }
      });
    });
  }
  document.querySelectorAll("form[data-newsletter-signup]").forEach(enhance);
}());
