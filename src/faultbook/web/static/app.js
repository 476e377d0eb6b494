// faultbook dashboard: a little progressive enhancement, nothing required.
// Changing a filter drop-down or date submits the filter form at once.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("filters");
  if (!form) return;
  ["status", "since", "until"].forEach(function (id) {
    var el = document.getElementById(id);
    if (el) el.addEventListener("change", function () { form.submit(); });
  });
});
// The deployments filters submit on change too.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("filters");
  if (!form || form.getAttribute("action") !== "/deployments" && form.getAttribute("action") !== "/metrics") return;
  Array.prototype.forEach.call(form.querySelectorAll("select"), function (el) {
    el.addEventListener("change", function () { form.submit(); });
  });
});
