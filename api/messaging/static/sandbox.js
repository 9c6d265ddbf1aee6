// The sandbox phone: send as a demo patient, and poll the conversation every 1.5 s.
// A poll adds only what is new and keeps the reader where they are: it follows the newest
// message only when the reader was already at the bottom (else it offers a button).
"use strict";

const $ = (id) => document.getElementById(id);
const thread = $("thread");
const newest = $("newest");
let shownAddress = null;

function address() {
  const mobile = $("patient").value;
  return $("channel").value === "whatsapp" ? "whatsapp:" + mobile : mobile;
}

function atBottom() {
  return thread.scrollHeight - thread.scrollTop - thread.clientHeight < 24;
}

function toBottom() {
  thread.scrollTop = thread.scrollHeight;
  newest.hidden = true;
}

async function send(body) {
  await fetch("/sandbox/send", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({mobile: $("patient").value, channel: $("channel").value, body})});
  await refresh();
  toBottom();  // the patient just wrote: show it
}

function key(message) {
  return [message.direction, message.created_at, message.body].join("|");
}

function statusText(message) {
  return message.direction === "outbound" ? message.status : "";
}

function bubble(message) {
  const item = document.createElement("div");
  item.className = "bubble " + message.direction;
  item.dataset.key = key(message);
  const who = document.createElement("span");
  who.className = "visually-hidden";
  who.textContent = message.direction === "inbound" ? "You: " : "Bookings team: ";
  item.append(who, document.createTextNode(message.body));
  if (message.buttons.length) {
    const quick = document.createElement("div");
    quick.className = "quick";
    message.buttons.forEach((b) => {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = b.title;
      button.addEventListener("click", () => send(b.title));
      quick.append(button);
    });
    item.append(quick);
  }
  const time = document.createElement("time");
  time.dateTime = message.created_at;
  time.textContent = message.shown_at;
  const status = document.createElement("span");
  status.className = "status";
  status.textContent = statusText(message);
  const stamp = document.createElement("div");
  stamp.className = "stamp";
  stamp.append(time, status);
  item.append(stamp);
  return item;
}

// Adds the messages not shown yet and updates delivery states; a different thread (or one
// that changed under us) is drawn afresh.
function render(messages) {
  const shown = Array.from(thread.children);
  const same = shownAddress === address() && shown.length <= messages.length &&
    shown.every((item, i) => item.dataset.key === key(messages[i]));
  if (!same) {
    thread.replaceChildren(...messages.map(bubble));
    shownAddress = address();
    return {fresh: true, added: 0};
  }
  shown.forEach((item, i) => {
    item.querySelector(".status").textContent = statusText(messages[i]);
  });
  messages.slice(shown.length).forEach((m) => thread.append(bubble(m)));
  return {fresh: false, added: messages.length - shown.length};
}

async function refresh() {
  const wanted = address();
  const response = await fetch("/sandbox/thread?address=" + encodeURIComponent(wanted));
  if (!response.ok || wanted !== address()) return;
  const messages = await response.json();
  const following = atBottom();
  const kept = thread.scrollTop;
  const {fresh, added} = render(messages);
  if (fresh || following) {
    toBottom();
  } else {
    thread.scrollTop = kept;
    if (added) newest.hidden = false;
  }
  $("title").textContent = $("channel").value === "whatsapp" ? "WhatsApp" : "Messages";
}

$("compose").addEventListener("submit", (event) => {
  event.preventDefault();
  const body = $("body").value.trim();
  if (body) { $("body").value = ""; send(body); }
});
thread.addEventListener("scroll", () => { if (atBottom()) newest.hidden = true; });
newest.addEventListener("click", () => { toBottom(); thread.focus(); });
$("patient").addEventListener("change", refresh);
$("channel").addEventListener("change", refresh);
setInterval(refresh, 1500);
refresh();
