// The admin's searching selects (Django's select2, e.g. an article's tags) made readable by a
// screen reader (axe-core, tests/e2e/test_accessibility.py): the search box inside each takes
// the name of its field, and select2's "clear" cross, which it puts straight into its list of
// choices, is wrapped in a list item. Applied whenever select2 redraws (a MutationObserver).
(function () {
  "use strict";

  function label(container) {
    var select = container.previousElementSibling;
    var row = container.closest(".form-row, .fieldBox, td");
    var text = row && row.querySelector("label") ? row.querySelector("label").textContent.replace(/:\s*$/, "") : "";
    container.querySelectorAll(".select2-search__field").forEach(function (field) {
      if (text && field.getAttribute("aria-label") !== text) {
        field.setAttribute("aria-label", text);
      }
    });
    container.querySelectorAll("ul.select2-selection__rendered").forEach(function (list) {
      Array.prototype.forEach.call(list.children, function (child) {
        if (child.tagName !== "LI") {
          var item = document.createElement("li");
          item.className = "select2-clear-holder";
          list.insertBefore(item, child);
          item.appendChild(child);
        }
      });
    });
    return select;
  }

  function fixAll() {
    document.querySelectorAll(".select2-container").forEach(label);
  }

  document.addEventListener("DOMContentLoaded", function () {
    fixAll();
    new MutationObserver(fixAll).observe(document.body, { childList: true, subtree: true });
  });
})();
