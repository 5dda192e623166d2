/* kizuna dashboard: the language switch, and the segment builder's live count. No dependencies. */
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form.js-autosubmit select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });

  var form = document.getElementById("segment-form");
  if (!form) { return; }
  var count = document.getElementById("live-count");
  var yaml = document.getElementById("condition-yaml");
  var members = document.getElementById("members");
  var error = document.getElementById("trial-error");
  var timer = null;
  var asked = 0;

  function fields() {
    var data = {};
    new FormData(form).forEach(function (value, key) {
      if (key !== "csrf_token" && key !== "action") { data[key] = String(value); }
    });
    return data;
  }

  function show(answer) {
    error.hidden = !answer.error;
    error.textContent = answer.error || "";
    count.textContent = answer.count === null || answer.count === undefined ? "—" : answer.count.toLocaleString();
    yaml.textContent = answer.yaml || "";
    while (members.firstChild) { members.removeChild(members.firstChild); }
    (answer.members || []).forEach(function (m) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "/customers/" + encodeURIComponent(m.id);
      link.textContent = m.external_id;
      item.appendChild(link);
      item.appendChild(document.createTextNode(" " + (m.name || "")));
      members.appendChild(item);
    });
  }

  function ask() {
    var mine = ++asked;
    count.textContent = "…";
    fetch(form.dataset.countUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": form.dataset.csrf },
      body: JSON.stringify(fields())
    }).then(function (response) { return response.json(); })
      .then(function (answer) { if (mine === asked) { show(answer); } })
      .catch(function () { if (mine === asked) { count.textContent = "—"; } });
  }

  function later() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(ask, 350);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  ask();
});
