/* Register (Table B.1) filters with htmx.
 * - Empty filters are left out of the request, so the address bar shows only what was chosen
 *   (/instruments/?due=overdue rather than ?q=&status=&type=&due=overdue).
 * - After Back/Forward, htmx restores the table from its history cache; the filter form is then set
 *   from the address bar, so the fields always describe the rows shown. */
(function () {
  "use strict";
  // htmx puts this script back into the page when it restores a history snapshot: listen only once.
  if (window.cmRegisterFilters) { return; }
  window.cmRegisterFilters = true;

  document.body.addEventListener("htmx:configRequest", function (evt) {
    if (evt.detail.verb !== "get") { return; }
    var params = evt.detail.parameters;
    ["q", "status", "type", "due"].forEach(function (name) {
      if (params[name] === "") { delete params[name]; }
    });
    if (params.sort === "code") { delete params.sort; }
  });

  function syncForm() {
    var form = document.getElementById("register-filters");
    if (!form) { return; }
    var query = new URLSearchParams(window.location.search);
    ["q", "status", "type", "due", "sort"].forEach(function (name) {
      var field = form.elements.namedItem(name);
      if (field) { field.value = query.get(name) || (name === "sort" ? "code" : ""); }
    });
  }
  document.body.addEventListener("htmx:historyRestore", syncForm);
  window.addEventListener("popstate", function () { window.setTimeout(syncForm, 0); });
})();
