// Streams answers over the chat WebSocket; without it (or JavaScript) the form posts as usual.
(function () {
  "use strict";
  var form = document.getElementById("chat-form");
  if (!form || !("WebSocket" in window)) { return; }
  var box = document.getElementById("messages");
  var input = document.getElementById("message");
  var errorBox = document.getElementById("chat-error");
  var statusLine = document.getElementById("chat-status");
  var button = document.getElementById("send-button");
  var socket = null;
  var current = null;

  function connect() {
    return new Promise(function (resolve, reject) {
      var proto = location.protocol === "https:" ? "wss://" : "ws://";
      var ws = new WebSocket(proto + location.host + form.dataset.wsPath);
      var opened = false;
      ws.onopen = function () { opened = true; resolve(ws); };
      ws.onerror = function () { if (!opened) { reject(new Error("no websocket")); } };
      ws.onclose = function () {
        socket = null;
        if (!opened) { reject(new Error("websocket closed")); return; }
        if (current) { showError("The connection closed before the answer finished; reload to see what was saved."); finish(); }
      };
      ws.onmessage = function (e) { handle(JSON.parse(e.data)); };
    });
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text) { node.textContent = text; }
    return node;
  }

  function showError(text) { errorBox.textContent = text; errorBox.hidden = false; }
  function clearError() { errorBox.textContent = ""; errorBox.hidden = true; }
  function setBusy(busy, text) {
    button.disabled = busy;
    statusLine.textContent = text || "";
  }
  // The question box stays at the bottom of the screen: the newest message scrolls into view above it.
  function scrollDown() {
    var last = box.lastElementChild;
    if (!last) { return; }
    last.style.scrollMarginBottom = (form.offsetHeight + 12) + "px";
    last.scrollIntoView({block: "nearest"});
  }

  function addUser(text) {
    var art = el("article", "msg msg-user");
    art.appendChild(el("h2", "visually-hidden", "You said"));
    art.appendChild(el("div", "msg-body", text));
    box.appendChild(art);
    return art;
  }

  function startAnswer() {
    var art = el("article", "msg msg-assistant streaming");
    art.setAttribute("aria-busy", "true");
    art.appendChild(el("h2", "visually-hidden", "Assistant answered"));
    var tools = el("ul", "tools");
    tools.setAttribute("aria-label", "Tools used");
    var body = el("div", "msg-body answer");
    art.appendChild(tools);
    art.appendChild(body);
    box.appendChild(art);
    return {art: art, tools: tools, body: body, running: {}, text: ""};
  }

  function finish() {
    if (current) { current.art.removeAttribute("aria-busy"); }
    current = null;
    setBusy(false, "");
    input.focus();
  }

  function handle(ev) {
    if (!current) { return; }
    if (ev.type === "start") {
      if (ev["new"]) {
        // Until "done", the new conversation exists only on this page: an error puts all this back.
        current.before = {id: form.dataset.conversationId, action: form.action, url: location.href};
        form.dataset.conversationId = ev.conversation_id;
        var url = "/chat/" + ev.conversation_id + "/";
        form.action = url;
        history.replaceState(null, "", url);
        if (ev.title) { current.before.title = retitle(ev.title); }
        // The page is a conversation now, as its own address renders it: no welcome text or examples.
        document.querySelectorAll(".intro, .examples").forEach(function (node) { node.hidden = true; });
      }
    } else if (ev.type === "tool_start") {
      var item = el("li", "tool tool-running", ev.name);
      current.tools.appendChild(item);
      current.running[ev.name] = item;
      setBusy(true, "Running " + ev.name + "…");
    } else if (ev.type === "tool_end") {
      var done = current.running[ev.name] || current.tools.appendChild(el("li", "tool"));
      done.className = "tool " + (ev.ok ? "tool-ok" : "tool-failed");
      done.textContent = ev.name + (ev.ok ? "" : " (failed)") + " · " + Math.round(ev.elapsed_ms) + " ms";
      if (ev.error) { done.title = ev.error; }
      setBusy(true, "Writing the answer…");
    } else if (ev.type === "token") {
      current.text += ev.text;
      current.body.textContent = current.text;
      scrollDown();
    } else if (ev.type === "done") {
      var holder = document.createElement("div");
      holder.innerHTML = ev.html;  // rendered and sanitised by the server, as the page renders stored answers
      var rendered = holder.firstElementChild;
      current.art.replaceWith(rendered);
      if (window.StockToolCharts) { window.StockToolCharts.mount(rendered); }  // its price charts, with uPlot
      current = null;
      addToList(ev);
      finish();
      scrollDown();
    } else if (ev.type === "error") {
      // Nothing of a failed turn was stored: a half-streamed answer goes too, and a new conversation's address.
      if (!current.text || ev.code === "storage" || ev.code === "provider") { current.art.remove(); }
      if (current.before) {
        if (current.before.id) { form.dataset.conversationId = current.before.id; }
        else { delete form.dataset.conversationId; }
        form.action = current.before.action;
        history.replaceState(null, "", current.before.url);
        if (current.before.title) { retitle(current.before.title.heading, current.before.title.page); }
        document.querySelectorAll(".intro, .examples").forEach(function (node) { node.hidden = false; });
      }
      if (current.user && (ev.code === "input" || ev.code === "not_found" || ev.code === "provider" || ev.code === "storage" ||
                           ev.code === "rate_limited")) {
        current.user.remove();
        input.value = current.question;
      }
      showError(ev.error);
      finish();
    }
  }

  // The heading and the tab say what the conversation is about, as the server renders its page.
  function retitle(title, page) {
    var heading = document.getElementById("chat-heading");
    var before = {heading: heading ? heading.textContent : "", page: document.title};
    if (heading) { heading.textContent = title; }
    document.title = page || (title + " · StockTool");
    return before;
  }

  function addToList(ev) {
    var list = document.getElementById("conversation-list");
    if (!ev["new"] || !list) { return; }
    var empty = list.querySelector(".empty");
    if (empty) { empty.remove(); }
    var li = el("li");
    var a = el("a", "", lastQuestion.slice(0, 80));
    a.href = "/chat/" + ev.conversation_id + "/";
    a.setAttribute("aria-current", "page");
    li.appendChild(a);
    list.insertBefore(li, list.firstChild);
  }

  var lastQuestion = "";

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (current) { return; }
    var text = input.value;
    if (!text.trim()) { showError("The message is empty: type a question first."); input.focus(); return; }
    clearError();
    setBusy(true, "Connecting…");
    (socket ? Promise.resolve(socket) : connect()).then(function (ws) {
      socket = ws;
      lastQuestion = text;
      var userEl = addUser(text);
      current = startAnswer();
      current.user = userEl;
      current.question = text;
      input.value = "";
      setBusy(true, "Thinking…");
      ws.send(JSON.stringify({message: text, conversation_id: form.dataset.conversationId || null}));
      scrollDown();
    }, function () {
      setBusy(false, "");
      HTMLFormElement.prototype.submit.call(form);  // no WebSocket: the plain form post still works
    });
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", {cancelable: true}));
    }
  });
  var enterHelp = document.getElementById("enter-help");
  if (enterHelp) { enterHelp.hidden = false; }  // true only now: without this script Enter is a new line

  // Each example is a link that reloads the page with the question in the box; here it goes in without one.
  Array.prototype.forEach.call(document.querySelectorAll(".example"), function (a) {
    a.addEventListener("click", function (event) {
      event.preventDefault();
      input.value = a.dataset.question;
      input.focus();
    });
  });
})();

// "Earlier messages" is a plain link (?before=) that opens the previous page; here it loads that page and puts
// its messages above the ones shown, keeping the reader's place.
(function () {
  "use strict";
  var box = document.getElementById("messages");
  if (!box || !window.fetch || !window.DOMParser) { return; }
  var loading = false;

  box.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("#earlier a") : null;
    if (!link || loading) { return; }
    event.preventDefault();
    loading = true;
    link.setAttribute("aria-busy", "true");
    fetch(link.href, {credentials: "same-origin", headers: {"Accept": "text/html"}}).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.text();
    }).then(function (html) {
      var page = new DOMParser().parseFromString(html, "text/html");
      var holder = document.getElementById("earlier");
      var first = holder.nextElementSibling;
      var top = first ? first.getBoundingClientRect().top : 0;
      Array.prototype.forEach.call(page.querySelectorAll("#messages > article.msg"), function (msg) {
        box.insertBefore(document.importNode(msg, true), first);
      });
      var next = page.getElementById("earlier");
      if (next) { holder.replaceWith(document.importNode(next, true)); } else { holder.remove(); }
      if (first) { window.scrollBy(0, first.getBoundingClientRect().top - top); }
      loading = false;
    }).catch(function () {
      location.href = link.href;  // the page itself still works
    });
  });
})();
