/* Campaign pages: the message's live segment count on the create form, and the status
   page's live progress (polled, so the page never reloads).

   The segment count follows the server exactly (api/campaigns/content.py render, then
   api/messaging/render.py render_sms and sms_segments): the placeholders are filled, the text
   is folded to GSM-7 (curly quotes, dashes, accents and emoji replaced or dropped), then
   counted as GSM-7 (160 a message, 153 a part; ^{}\[~]|€ count twice) or UCS-2 (70, 67). */
(function () {
  "use strict";

  var GSM7_BASIC = new Set(Array.from(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"));
  var GSM7_EXTENDED = new Set(Array.from("^{}\\[~]|€"));
  var REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": "\"", "\u201d": "\"", "\u201e": "\"", "\u2033": "\"",
    "\u2013": "-", "\u2014": "-", "\u2012": "-", "\u2212": "-", "\u2010": "-", "\u2011": "-",
    "\u2026": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\u2022": "-",
    "\u00b7": "-", "\t": " ", "\u2705": "", "\u274c": ""
  };

  function isGsm(ch) { return GSM7_BASIC.has(ch) || GSM7_EXTENDED.has(ch); }

  function toGsm7(text) {
    var out = "";
    Array.from(text).forEach(function (ch) {
      if (isGsm(ch)) { out += ch; return; }
      if (Object.prototype.hasOwnProperty.call(REPLACEMENTS, ch)) { out += REPLACEMENTS[ch]; return; }
      // Python: NFKD, keep the ASCII characters, then only those in the basic alphabet.
      Array.from(ch.normalize("NFKD")).forEach(function (c) {
        if (c.charCodeAt(0) < 128 && GSM7_BASIC.has(c)) { out += c; }
      });
    });
    return out.replace(/ {2,}/g, " ").trim();
  }

  function segments(text) {
    var chars = Array.from(text), units, single, multi;
    if (chars.every(isGsm)) {
      units = chars.reduce(function (n, c) { return n + (GSM7_EXTENDED.has(c) ? 2 : 1); }, 0);
      single = 160; multi = 153;
    } else {
      units = chars.reduce(function (n, c) { return n + (c.codePointAt(0) > 0xFFFF ? 2 : 1); }, 0);
      single = 70; multi = 67;
    }
    return { units: units, gsm: chars.every(isGsm), count: units <= single ? 1 : Math.ceil(units / multi) };
  }

  // Python's str.format with the two placeholders; null when the server would refuse it.
  function fill(template, values) {
    var bad = false;
    var filled = template.replace(/\{\{|\}\}|\{([^{}]*)\}|[{}]/g, function (m, name) {
      if (m === "{{") { return "{"; }
      if (m === "}}") { return "}"; }
      if (name !== undefined && Object.prototype.hasOwnProperty.call(values, name)) { return values[name]; }
      bad = true;
      return m;
    });
    return bad ? null : filled;
  }

  function segmentCounter() {
    var box = document.getElementById("sms_template");
    var out = document.getElementById("segment-count");
    if (!box || !out) { return; }
    var values = { trust_name: box.dataset.trustName, bookings_phone: box.dataset.bookingsPhone };
    var max = parseInt(box.dataset.maxLength, 10);
    function update() {
      var length = Array.from(box.value).length;
      var filled = fill(box.value, values);
      if (filled === null) {
        out.textContent = length + " of " + max + " characters. Curly brackets are only for {trust_name} and {bookings_phone}.";
        return;
      }
      var body = toGsm7(filled);
      var s = segments(body);
      var changed = body !== filled.trim() ? " Some characters will be replaced with plain ones." : "";
      out.textContent = length + " of " + max + " characters. As sent: " + Array.from(body).length +
        " characters, " + s.count + " segment" + (s.count === 1 ? "" : "s") + " (" +
        (s.gsm ? "GSM-7" : "UCS-2") + ")." + changed;
    }
    box.addEventListener("input", update);
    update();
  }

  function liveProgress() {
    var live = document.getElementById("campaign-live");
    var summary = document.getElementById("live-summary");
    if (!live || !window.fetch) { return; }
    var final = { completed: true, cancelled: true };
    var last = live.innerHTML;
    function current() {
      var block = live.querySelector("[data-status]");
      return block ? block.dataset : {};
    }
    function poll() {
      if (final[current().status]) { return; }
      fetch(live.dataset.src, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html !== null && html !== last) {
            var before = current().summary;
            live.innerHTML = html;
            last = html;
            if (summary && current().summary !== before) { summary.textContent = current().summary; }
          }
        })
        .catch(function () { /* a missed poll is retried at the next tick */ })
        .then(function () { window.setTimeout(poll, 3000); });
    }
    live.dataset.live = "on";
    window.setTimeout(poll, 3000);
  }

  if (typeof document === "undefined") {  // under node: the parity test with the server
    module.exports = { toGsm7: toGsm7, segments: segments, fill: fill };
    return;
  }
  document.addEventListener("DOMContentLoaded", function () {
    segmentCounter();
    liveProgress();
  });
}());
