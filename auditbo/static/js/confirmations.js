// Review page of a confirmation audit: show the grade only for a grade adjustment, and the
// conflict details only when the reviewer declares a tie. (No inline script: strict CSP.)
(function () {
  "use strict";

  function toggle(selector, show) {
    document.querySelectorAll(selector).forEach(function (el) { el.classList.toggle("d-none", !show); });
  }

  var decision = document.querySelector(".js-decision");
  if (decision) {
    var syncGrade = function () { toggle(".js-grade", decision.value === "grade_adjusted"); };
    decision.addEventListener("change", syncGrade);
    syncGrade();
  }

  var radios = document.querySelectorAll(".js-conflict");
  if (radios.length) {
    var syncConflict = function () {
      var chosen = document.querySelector(".js-conflict:checked");
      toggle(".js-conflict-details", chosen !== null && chosen.value === "yes");
    };
    radios.forEach(function (r) { r.addEventListener("change", syncConflict); });
    syncConflict();
  }
})();
