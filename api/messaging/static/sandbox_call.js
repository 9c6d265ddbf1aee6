// The sandbox phone's call mode: typed words stand in for speech and the keypad for keys,
// each posted to /sandbox/call, which plays Twilio on the real, signed voice webhooks.
// The line says where the next answer goes (listening.next); null means the call is over.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const transcript = $("transcript");
  const keyed = $("keyed");
  const MAX_KEYS = 12;
  let call = null;  // {sid, mobile, listening, over}
  let busy = false;

  function showMode() {
    const calling = $("mode-call").checked;
    $("text-mode").hidden = calling;
    $("text-options").hidden = calling;
    $("call-mode").hidden = !calling;
    $("call-options").hidden = !calling;
  }

  function line(text, who) {
    const item = document.createElement("p");
    item.className = "line " + {line: "from-line", you: "from-you", note: "note"}[who];
    const label = document.createElement("span");
    label.className = "who";
    label.textContent = {line: "Line: ", you: "You: ", note: ""}[who];
    item.append(label, document.createTextNode(text));
    transcript.append(item);
    transcript.scrollTop = transcript.scrollHeight;
  }

  // Enables what makes sense now; focus on a control that became disabled goes to the next
  // sensible place rather than being lost to the page.
  function controls() {
    const listening = Boolean(call && call.listening) && !busy;
    const inCall = Boolean(call && !call.over) && !busy;
    $("speech").disabled = !listening || call.listening.keypad_only;
    $("say").disabled = $("speech").disabled;
    document.querySelectorAll(".keypad .key").forEach((k) => { k.disabled = !listening; });
    $("send-keys").disabled = !listening || !keyed.value;
    $("clear-keys").disabled = !listening || !keyed.value;
    $("silence").disabled = !listening;
    $("hang-up").disabled = !inCall;
    $("ring").disabled = busy || Boolean(call && !call.over);
    $("withheld").disabled = $("ring").disabled;
    const expected = listening && call.listening.digits;
    $("keys-hint").textContent = expected ? `The line expects ${expected} keys.` : "";
  }

  function keepFocus(preferred) {
    const active = document.activeElement;
    if (busy || (active && active !== document.body && !active.disabled)) return;
    const target = [preferred, $("speech"), $("ring")].find((el) => el && !el.disabled);
    if (target) target.focus();
  }

  function over(answer) {
    call.over = true;
    const state = answer.put_through ? "Put through to a person." : "Call ended.";
    $("call-state").textContent = state;
    line(state, "note");
  }

  async function act(payload, after) {
    if (busy) return;
    busy = true;
    transcript.setAttribute("aria-busy", "true");
    controls();
    try {
      const response = await fetch("/sandbox/call", {method: "POST",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({mobile: call.mobile, call_sid: call.sid || "",
          next: call.listening ? call.listening.next : "", ...payload})});
      const answer = await response.json();
      if (!response.ok) {
        $("call-state").textContent = "The line refused that: " +
          (typeof answer.detail === "string" ? answer.detail : response.status);
        return;
      }
      call.sid = answer.call_sid;
      call.listening = answer.listening;
      answer.said.forEach((sentence) => line(sentence, "line"));
      if (answer.ended || !answer.listening) {
        call.listening = null;
        if (answer.ended) over(answer);
        else if (answer.put_through) $("call-state").textContent = "Put through to a person.";
      } else {
        $("call-state").textContent = "In a call: the line is listening.";
      }
      if (after) after();
    } catch (error) {
      $("call-state").textContent = "The sandbox could not reach the line.";
    } finally {
      busy = false;
      transcript.removeAttribute("aria-busy");
      controls();
      keepFocus({ring: $("speech"), say: $("speech"),
        press: document.querySelector(".keypad .key")}[payload.action]);
    }
  }

  $("ring").addEventListener("click", () => {
    const mobile = $("withheld").checked ? "withheld" : $("patient").value;
    call = {sid: "", mobile, listening: null, over: false};
    transcript.replaceChildren();
    keyed.value = "";
    line(`Calling from ${mobile === "withheld" ? "a withheld number" : mobile}.`, "note");
    $("call-state").textContent = "Calling the line.";
    act({action: "ring"});
  });

  $("speak").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("speech").value.trim();
    if (!text || !call || !call.listening) return;
    $("speech").value = "";
    line(text, "you");
    act({action: "say", text});
  });

  document.querySelectorAll(".keypad .key").forEach((key) => {
    key.addEventListener("click", () => {
      if (keyed.value.length < MAX_KEYS) keyed.value += key.dataset.key;
      controls();
    });
  });

  $("clear-keys").addEventListener("click", () => {
    keyed.value = "";
    controls();
    keepFocus(document.querySelector(".keypad .key"));
  });

  $("send-keys").addEventListener("click", () => {
    const digits = keyed.value;
    if (!digits || !call || !call.listening) return;
    line(`Pressed ${digits.split("").join(" ")}`, "you");
    act({action: "press", digits}, () => { keyed.value = ""; });
  });

  $("silence").addEventListener("click", () => {
    line("(stays silent)", "you");
    act({action: "silence"});
  });

  $("hang-up").addEventListener("click", () => {
    line("(hangs up)", "you");
    call.listening = null;
    act({action: "hang_up"});
  });

  $("mode-text").addEventListener("change", showMode);
  $("mode-call").addEventListener("change", showMode);
  showMode();
  controls();
})();
