"""The report's static assets as constants: the CSP header, the CSS and the one script.

The script holds no data: it only reads the DOM (see the DOM contract in the module
docstring of :mod:`reports.html_report`).
"""

from __future__ import annotations

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#222;font-size:14px}
main{margin:1em 1.5em}
[hidden]{display:none!important}
#nav{position:sticky;top:0;background:#263238;padding:.5em 1.5em;z-index:2}
#nav a{color:#fff;margin-right:1.5em;text-decoration:none;font-weight:600}
h1{font-size:1.5em}h2{font-size:1.25em;margin-top:1.5em;border-bottom:1px solid #ccc}
h3{font-size:1.05em;margin-top:1.2em}
.page{padding-bottom:2em}
.page,.page [id]{scroll-margin-top:3em}
body:not(.js) .page{border-top:3px solid #263238}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}
td.num,.num{text-align:right;font-variant-numeric:tabular-nums}
#matrix-table td.cell{text-align:center;white-space:nowrap;min-width:6em}
#matrix-table td:first-child{white-space:nowrap}
.st-fail{background:#f4c7c3}.st-known{background:#fce8b2}.st-pass{background:#c8e6c9}
.st-grey{background:#e0e0e0;color:#555}.st-empty{background:#fafafa;color:#aaa}
small{color:#555}
.controls{margin:.5em 0}.controls label{margin-left:1em}
pre{background:#f6f8fa;border:1px solid #ddd;padding:6px;overflow-x:auto;white-space:pre-wrap;word-break:break-word;max-width:100%}
.failure{border-left:4px solid #d93025;padding-left:8px;margin:.8em 0}
.failure .head{font-weight:600}
.known-list .known{border-left:4px solid #f0b400;padding-left:8px;margin:.6em 0}
.legend span{display:inline-block;padding:2px 8px;margin-right:4px;border:1px solid #ccc}
code{background:#f3f3f3;padding:0 2px}
svg.histogram{display:block;margin:.5em 0;max-width:100%;height:auto}
svg.histogram text{font-size:11px;fill:#333}
button.copy{margin:.3em 0;cursor:pointer}
td.wrap{white-space:pre-wrap;max-width:60em}
"""

SCRIPT = r"""
(function () {
  "use strict";
  var d = document;
  function pages() { return d.querySelectorAll(".page"); }
  function show() {
    var id = "";
    try { id = decodeURIComponent(location.hash.slice(1)); } catch (err) { id = ""; }
    var target = id ? d.getElementById(id) : null;
    var page = null;
    if (target) {
      page = target.classList.contains("page") ? target : target.closest(".page");
    }
    if (!page) { page = d.getElementById("matrix"); target = null; }
    var all = pages();
    for (var i = 0; i < all.length; i++) {
      if (all[i] === page) { all[i].removeAttribute("hidden"); }
      else { all[i].setAttribute("hidden", ""); }
    }
    if (target && target !== page) {
      var det = target.closest("details");
      if (det) { det.open = true; }
      target.scrollIntoView();
    } else {
      window.scrollTo(0, 0);
    }
  }
  function filterRows() {
    var box = d.getElementById("filter");
    var only = d.getElementById("only-problems");
    var q = box ? String(box.value || "").toLowerCase() : "";
    var problems = only ? only.checked : false;
    var rows = d.querySelectorAll(".loss-row");
    for (var i = 0; i < rows.length; i++) {
      var name = String(rows[i].getAttribute("data-loss") || "").toLowerCase();
      var st = rows[i].getAttribute("data-status");
      var hide = (q && name.indexOf(q) < 0) || (problems && (st === "pass" || st === "grey"));
      if (hide) { rows[i].setAttribute("hidden", ""); } else { rows[i].removeAttribute("hidden"); }
    }
  }
  function selectCopy(pre) {
    try {
      var sel = window.getSelection();
      var range = d.createRange();
      range.selectNodeContents(pre);
      sel.removeAllRanges();
      sel.addRange(range);
      d.execCommand("copy");
      sel.removeAllRanges();
    } catch (err) { /* nothing to do */ }
  }
  function copy(button) {
    try {
      var box = button.closest(".failure") || button.parentNode;
      var pre = box ? box.querySelector("pre.reproducer-code") : null;
      if (!pre) { return; }
      var text = pre.textContent;
      var done = function () { button.textContent = "copied"; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { selectCopy(pre); done(); });
      } else {
        selectCopy(pre);
        done();
      }
    } catch (err) { /* never throw from a click */ }
  }
  d.body.classList.add("js");
  show();
  window.addEventListener("hashchange", show);
  var box = d.getElementById("filter");
  if (box) { box.addEventListener("input", filterRows); box.addEventListener("search", filterRows); }
  var only = d.getElementById("only-problems");
  if (only) { only.addEventListener("change", filterRows); }
  filterRows();
  d.addEventListener("click", function (ev) {
    var t = ev.target;
    var b = t && t.closest ? t.closest("button.copy") : null;
    if (b) { copy(b); }
  });
})();
"""
