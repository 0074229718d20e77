/* Progressive enhancement of the newsletter signup forms (page and article box).
   Without JavaScript the form posts normally and the server renders the answer. With it, the
   form is sent with fetch (CSRF token in the X-CSRFToken header), and the server's generic
   message is shown in the status line under the button; each field error is written beside its
   field, as the server renders it (a role="alert" box with the id `<input id>_error`, named by
   the input's aria-describedby, the input marked aria-invalid), and the first such field gets
   the focus. Any network failure falls back to a normal post. */
(function () {
  "use strict";
  function show(form, text, isError) {
    var status = form.querySelector(".signup-status");
    if (!status) { return; }
    status.textContent = text;
    status.className = "signup-status " + (isError ? "errorlist" : "notice");
  }
  function describedBy(node, id, add) {
    var ids = (node.getAttribute("aria-describedby") || "").split(" ").filter(function (each) {
      return each && each !== id;
    });
    if (add) { ids.push(id); }
    if (ids.length) { node.setAttribute("aria-describedby", ids.join(" ")); } else { node.removeAttribute("aria-describedby"); }
  }
  function clearErrors(form) {
    form.querySelectorAll(".field-error").forEach(function (box) { box.parentNode.removeChild(box); });
    form.querySelectorAll("[aria-describedby]").forEach(function (node) {
      (node.getAttribute("aria-describedby") || "").split(" ").forEach(function (id) {
        if (/_error$/.test(id)) { describedBy(node, id, false); }
      });
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (node) { node.removeAttribute("aria-invalid"); });
  }
  // The field's error box beside it; returns the element to focus, or null for no such field.
  function fieldError(form, name, text) {
    var input = form.querySelector("[name='" + name + "']:not([type=hidden])");
    if (!input) { return null; }
    var group = (input.type === "radio" || input.type === "checkbox") ? input.closest("fieldset") : input;
    var target = group || input;
    var box = document.createElement("div");
    box.id = (target.id || input.id || (form.id || "signup") + "-" + name) + "_error";
    box.className = "errorlist field-error";
    box.setAttribute("role", "alert");
    box.textContent = text;
    (input.closest(".field") || input.parentNode).appendChild(box);
    describedBy(target, box.id, true);
    if (target === input) { input.setAttribute("aria-invalid", "true"); }
    return input;
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
        clearErrors(form);
        if (result.ok && result.data.ok) {
          form.querySelectorAll("input[type=email], input[name=name]").forEach(function (input) { input.value = ""; });
          show(form, result.data.message, false);
        } else {
          var errors = result.data.errors || {};
          var elsewhere = [];
          var first = null;
          Object.keys(errors).forEach(function (field) {
            var text = errors[field].map(function (error) { return error.message; }).join(" ");
            var input = field === "__all__" ? null : fieldError(form, field, text);
            if (input) { first = first || input; } else { elsewhere.push(text); }
          });
          // Only what belongs to no visible field (an expired form, a hidden field) goes here.
          show(form, elsewhere.join(" "), elsewhere.length > 0);
          if (first) { first.focus(); }
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
