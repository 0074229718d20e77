/* Story order on an edition's admin page: drag a row (or use its ▲/▼ buttons) and the rows'
   position fields are rewritten in page order. Nothing is sent until the editor saves, so the
   typed intro and the ticked pin/remove boxes stay. Without JavaScript the position fields are
   typed by hand; the server orders by them either way (DigestAdmin.save_formset). */
(function () {
  "use strict";

  function storyRows(tbody) {
    return Array.prototype.filter.call(tbody.querySelectorAll("tr.form-row"), function (row) {
      // Only saved stories: an empty "add" row whose position changed would be a half-filled row.
      return row.classList.contains("has_original") && row.querySelector("input.digest-position");
    });
  }

  function renumber(tbody) {
    storyRows(tbody).forEach(function (row, index) {
      row.querySelector("input.digest-position").value = index + 1;  // editors count from 1
    });
  }

  function moveButton(label, symbol, onClick) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button digest-move";
    button.title = label;
    button.setAttribute("aria-label", label);
    button.textContent = symbol;
    button.addEventListener("click", onClick);
    return button;
  }

  function setUp(tbody) {
    var dragged = null;
    var labels = document.getElementById("digest-order-labels") || document.body;
    // The dragged row goes before the first other row whose middle is below the pointer.
    tbody.addEventListener("dragover", function (event) {
      if (!dragged) {
        return;
      }
      event.preventDefault();
      var others = storyRows(tbody).filter(function (row) { return row !== dragged; });
      var before = null;
      for (var i = 0; i < others.length; i++) {
        var box = others[i].getBoundingClientRect();
        if (event.clientY < box.top + box.height / 2) {
          before = others[i];
          break;
        }
      }
      if (!before) {
        var last = others[others.length - 1];
        before = last ? last.nextSibling : null;
      }
      if (before !== dragged && before !== dragged.nextSibling) {
        tbody.insertBefore(dragged, before);
      }
    });
    tbody.addEventListener("drop", function (event) {
      event.preventDefault();
      renumber(tbody);
    });
    storyRows(tbody).forEach(function (row) {
      row.draggable = true;
      row.addEventListener("dragstart", function (event) {
        dragged = row;
        row.style.opacity = "0.5";
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", row.id);
      });
      row.addEventListener("dragend", function () {
        row.style.opacity = "";
        dragged = null;
        renumber(tbody);
      });
      var cell = row.querySelector("td.field-position");
      if (cell) {
        cell.appendChild(moveButton(labels.getAttribute("data-up-label") || "▲", "▲", function () {
          var previous = row.previousElementSibling;
          if (previous) {
            tbody.insertBefore(row, previous);
            renumber(tbody);
          }
        }));
        cell.appendChild(moveButton(labels.getAttribute("data-down-label") || "▼", "▼", function () {
          var next = row.nextElementSibling;
          if (next && next.classList.contains("has_original")) {
            tbody.insertBefore(next, row);
            renumber(tbody);
          }
        }));
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var position = document.querySelector("input.digest-position");
    if (position) {
      setUp(position.closest("tbody"));
    }
  });
})();
