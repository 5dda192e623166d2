/*! kizuna.js: the first-party tracking snippet served by your kizuna server. Apache-2.0. */
(function (window, document) {
  "use strict";

  // The server replaces this object with its settings (snippet_consent, snippet_cookie_days ...).
  var DEFAULTS = /*KIZUNA_DEFAULTS*/ { consent: "opt-in", cookieDays: 395, visitMinutes: 30, personalise: "opt-out" } /*END*/;
  var VERSION = "1";
  var PURPOSES = ["tracking", "personalisation", "email", "direct_mail", "ads", "third_party"];

  var stub = window.kizuna;
  if (stub && stub.loaded) return;

  var script = document.currentScript;
  if (!script) {
    var scripts = document.getElementsByTagName("script");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/\/kizuna\.js(\?|$)/.test(scripts[i].src)) { script = scripts[i]; break; }
    }
  }
  var data = (script && script.dataset) || {};
  var given = window.kizunaSettings || {};

  function pick(name, fallback) {
    if (given[name] !== undefined && given[name] !== null) return given[name];
    if (data[name] !== undefined && data[name] !== "") return data[name];
    return fallback;
  }

  var config = {
    writeKey: pick("writeKey", ""),
    host: String(pick("host", script ? new URL(script.src, location.href).origin : "")).replace(/\/$/, ""),
    consent: pick("consent", DEFAULTS.consent) === "opt-out" ? "opt-out" : "opt-in",
    cookieDays: Number(pick("cookieDays", DEFAULTS.cookieDays)) || 395,
    visitMinutes: Number(pick("visitMinutes", DEFAULTS.visitMinutes)) || 30,
    cookieDomain: pick("cookieDomain", ""),
    policyVersion: pick("policyVersion", null),
    autoPage: String(pick("autoPage", "true")) !== "false",
    personalise: pick("personalise", DEFAULTS.personalise) === "opt-in" ? "opt-in" : "opt-out",
    slots: String(pick("slots", "true")) !== "false"
  };

  // -- cookies ------------------------------------------------------------------------------------------
  var COOKIE = { id: "kz_aid", user: "kz_uid", visits: "kz_visits", seen: "kz_seen", consent: "kz_consent" };

  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var at = parts[i].indexOf("=");
      if (parts[i].slice(0, at) === name) return decodeURIComponent(parts[i].slice(at + 1));
    }
    return null;
  }

  function writeCookie(name, value, seconds) {
    var text = name + "=" + encodeURIComponent(value) + "; Path=/; SameSite=Lax; Max-Age=" + Math.round(seconds);
    if (config.cookieDomain) text += "; Domain=" + config.cookieDomain;
    if (location.protocol === "https:") text += "; Secure";
    document.cookie = text;
  }

  function dropCookie(name) { writeCookie(name, "", 0); }

  var lifetime = function () { return config.cookieDays * 86400; };

  // -- consent ------------------------------------------------------------------------------------------
  function choices() {
    try { return JSON.parse(readCookie(COOKIE.consent) || "{}"); } catch (e) { return {}; }
  }

  function tracking() {
    var status = (choices().p || {}).tracking;
    if (status) return status === "granted";
    return config.consent === "opt-out";
  }

  // -- identity and visits ------------------------------------------------------------------------------
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  var visit = { number: 0, returning: false };

  function anonymousId() {
    var id = readCookie(COOKIE.id);
    if (!id) {
      id = uuid();
      writeCookie(COOKIE.id, id, lifetime());
    }
    return id;
  }

  // A visit ends after visitMinutes without activity; the visitor is returning from their second visit on.
  function touchVisit() {
    var visits = parseInt(readCookie(COOKIE.visits) || "0", 10) || 0;
    if (!readCookie(COOKIE.seen) || visits === 0) {
      visits += 1;
      writeCookie(COOKIE.visits, String(visits), lifetime());
    }
    writeCookie(COOKIE.seen, "1", config.visitMinutes * 60);
    visit = { number: visits, returning: visits > 1 };
  }

  function forget() {
    for (var name in COOKIE) if (name !== "consent") dropCookie(COOKIE[name]);
    visit = { number: 0, returning: false };
  }

  // -- sending ------------------------------------------------------------------------------------------
  var pending = [];
  var timer = null;

  function post(path, body) {
    body.writeKey = config.writeKey;
    body.sentAt = new Date().toISOString();
    try {
      // text/plain keeps this a simple request (no CORS preflight); the server reads it as JSON.
      return window.fetch(config.host + path, {
        method: "POST",
        body: JSON.stringify(body),
        headers: { "Content-Type": "text/plain" },
        credentials: "omit",
        keepalive: true
      }).catch(function () {});
    } catch (e) {
      return null;
    }
  }

  function flush() {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!pending.length) return null;
    var batch = pending;
    pending = [];
    return post("/v1/batch", { batch: batch });
  }

  function message(type, fields) {
    var m = {
      type: type,
      messageId: uuid(),
      timestamp: new Date().toISOString(),
      anonymousId: anonymousId(),
      context: {
        library: { name: "kizuna.js", version: VERSION },
        page: {
          path: location.pathname,
          url: location.href,
          search: location.search,
          title: document.title,
          referrer: document.referrer
        },
        userAgent: navigator.userAgent,
        locale: navigator.language,
        screen: { width: window.screen.width, height: window.screen.height },
        visit: { number: visit.number, returning: visit.returning }
      }
    };
    var user = readCookie(COOKIE.user);
    if (user) m.userId = user;
    for (var k in fields) if (fields[k] !== undefined) m[k] = fields[k];
    return m;
  }

  function enqueue(type, fields) {
    if (!tracking()) return false;
    touchVisit();
    pending.push(message(type, fields));
    if (!timer) timer = setTimeout(flush, 0);
    return true;
  }


  // -- web slots ----------------------------------------------------------------------------------------
  // Slots are filled from data with DOM nodes and textContent only: nothing the server sends is run as HTML.
  function personalisation() {
    var status = (choices().p || {}).personalisation;
    if (status) return status === "granted";
    return config.personalise === "opt-out";
  }

  function safeUrl(url) { return typeof url === "string" && /^(https?:\/\/|\/(?!\/))/.test(url) ? url : null; }

  function node(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined && text !== null && text !== "") el.textContent = String(text);
    return el;
  }

  function link(url, child, slot) {
    var a = document.createElement("a");
    var href = safeUrl(url);
    if (href) a.href = href;
    a.appendChild(child);
    a.addEventListener("click", function () { api.track("Slot Clicked", { slot: slot, url: href }); });
    return a;
  }

  function image(url, alt) {
    var src = safeUrl(url);
    if (!src) return null;
    var img = document.createElement("img");
    img.src = src;
    img.alt = alt || "";
    img.loading = "lazy";
    img.onerror = function () { if (img.parentNode) img.parentNode.removeChild(img); };
    return img;
  }

  function price(item) {
    if (typeof item.price !== "number") return "";
    var currency = item.currency || "JPY";
    try { return new Intl.NumberFormat(document.documentElement.lang || "ja", { style: "currency", currency: currency }).format(item.price); }
    catch (e) { return currency + " " + item.price; }
  }

  function cards(items, slot) {
    var list = node("div", "kizuna-items");
    for (var i = 0; i < items.length; i++) {
      var item = items[i];
      var card = node("div", "kizuna-card");
      card.setAttribute("data-kizuna-sku", item.sku || "");
      var img = image(item.image_url, item.title);
      if (img) card.appendChild(img);
      card.appendChild(link(item.url, node("span", "kizuna-title", item.title), slot));
      card.appendChild(node("div", "kizuna-price", price(item)));
      if (item.reason_text) card.appendChild(node("div", "kizuna-reason", item.reason_text));
      list.appendChild(card);
    }
    return list;
  }

  function contentNodes(content, slot) {
    var box = node("div", "kizuna-content");
    var img = image(content.image, content.title);
    if (img) box.appendChild(img);
    if (content.title) box.appendChild(node("h2", "kizuna-heading", content.title));
    if (content.body) box.appendChild(node("p", "kizuna-body", content.body));
    if (content.items && content.items.length) box.appendChild(cards(content.items, slot));
    if (content.cta || content.link) box.appendChild(link(content.link, node("span", "kizuna-cta", content.cta || content.link), slot));
    return box;
  }

  function replace(el, child) {
    while (el.firstChild) el.removeChild(el.firstChild);
    el.appendChild(child);
  }

  var POPUP_SEEN = "kz_popup_";

  function popupSeen(slot) {
    try { return window.sessionStorage.getItem(POPUP_SEEN + slot) === "1"; } catch (e) { return false; }
  }

  function showPopup(el, answer) {
    if (popupSeen(answer.slot)) return;
    try { window.sessionStorage.setItem(POPUP_SEEN + answer.slot, "1"); } catch (e) { /* private mode */ }
    var overlay = node("div", "kizuna-popup");
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("data-kizuna-popup", answer.slot);
    var s = overlay.style;
    s.position = "fixed"; s.left = "0"; s.top = "0"; s.right = "0"; s.bottom = "0"; s.zIndex = "2147483000";
    s.background = "rgba(0,0,0,.45)"; s.display = "flex"; s.alignItems = "center"; s.justifyContent = "center";
    var panel = node("div", "kizuna-popup-panel");
    var p = panel.style;
    p.background = "#fff"; p.color = "#222"; p.padding = "1.5rem"; p.borderRadius = ".5rem"; p.maxWidth = "26rem";
    var close = node("button", "kizuna-popup-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "close");
    close.style.float = "right";
    close.addEventListener("click", function () { if (overlay.parentNode) overlay.parentNode.removeChild(overlay); });
    panel.appendChild(close);
    panel.appendChild(contentNodes(answer.popup.content || {}, answer.slot));
    overlay.appendChild(panel);
    overlay.addEventListener("click", function (e) { if (e.target === overlay) close.click(); });
    (el || document.body).appendChild(overlay);
    if (el) el.hidden = false;
    api.track("Slot Viewed", { slot: answer.slot, kind: "popup", reason: answer.reason });
  }

  function armPopup(el, answer) {
    var trigger = answer.popup.trigger;
    if (trigger === "scroll") {
      var percent = Number(answer.popup.scroll_percent) || 50;
      var onScroll = function () {
        var doc = document.documentElement;
        var room = Math.max(1, doc.scrollHeight - window.innerHeight);
        if ((window.scrollY / room) * 100 >= percent) { window.removeEventListener("scroll", onScroll); showPopup(el, answer); }
      };
      window.addEventListener("scroll", onScroll, { passive: true });
    } else if (trigger === "exit_intent") {
      var onLeave = function (e) {
        if (!e.relatedTarget && e.clientY <= 0) { document.removeEventListener("mouseout", onLeave); showPopup(el, answer); }
      };
      document.addEventListener("mouseout", onLeave);
    } else {
      showPopup(el, answer);
    }
  }

  function fill(el, answer) {
    el.setAttribute("data-kizuna-reason", answer.reason || "");
    if (answer.kind === "popup" && answer.popup) { armPopup(el, answer); return; }
    if (answer.items && answer.items.length) {
      var box = node("div", "kizuna-recommendations");
      if (answer.title) box.appendChild(node("h3", "kizuna-heading", answer.title));
      box.appendChild(cards(answer.items, answer.slot));
      replace(el, box);
    } else if (answer.content) {
      replace(el, contentNodes(answer.content, answer.slot));
    } else {
      return; // nothing chosen: the page's own content stays
    }
    el.setAttribute("data-kizuna-filled", "true");
    api.track("Slot Viewed", { slot: answer.slot, kind: answer.kind, reason: answer.reason });
  }

  function personalise() {
    if (!config.slots || !personalisation() || !window.fetch || !document.querySelectorAll) return null;
    var found = document.querySelectorAll("[data-kizuna-slot]");
    var bySlot = {};
    var names = [];
    for (var i = 0; i < found.length && names.length < 20; i++) {
      var name = found[i].getAttribute("data-kizuna-slot");
      if (!name || bySlot[name] || popupSeen(name)) continue;
      bySlot[name] = found[i];
      names.push(name);
    }
    if (!names.length) return null;
    var product = document.querySelector("[data-kizuna-product]");
    var body = {
      writeKey: config.writeKey,
      slots: names,
      lang: (document.documentElement.lang || navigator.language || "ja").slice(0, 2),
      consent: choices().p || {}
    };
    if (product) body.product = product.getAttribute("data-kizuna-product");
    if (tracking()) {
      body.anonymousId = anonymousId();
      body.returning = visit.returning;
    }
    return window.fetch(config.host + "/v1/personalize", {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "Content-Type": "text/plain" },
      credentials: "omit"
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (answer) {
      var listed = (answer && answer.slots) || [];
      for (var j = 0; j < listed.length; j++) if (bySlot[listed[j].slot]) fill(bySlot[listed[j].slot], listed[j]);
      return listed;
    }).catch(function () { return null; }); // offline: the page's own content stays
  }

  // -- the public interface -----------------------------------------------------------------------------
  var pageSent = false;
  var api = {
    loaded: true,
    version: VERSION,

    page: function (name, properties) {
      if (typeof name === "object" && name !== null) { properties = name; name = undefined; }
      var sent = enqueue("page", { name: name, properties: properties || {} });
      pageSent = pageSent || sent;
      return sent;
    },

    track: function (event, properties) {
      return enqueue("track", { event: event, properties: properties || {} });
    },

    identify: function (userId, traits) {
      if (typeof userId === "object" && userId !== null) { traits = userId; userId = undefined; }
      if (!tracking()) return false;
      if (userId) writeCookie(COOKIE.user, String(userId), lifetime());
      var sent = enqueue("identify", { traits: traits || {} });
      // The customer exists once the identify is stored: only then can the server record their choices.
      Promise.resolve(flush()).then(function () { syncConsent(false); });
      return sent;
    },

    // kizuna.consent({tracking: true, email: false}) or kizuna.consent("tracking", "granted")
    consent: function (purposes, status) {
      if (typeof purposes === "string") { var one = {}; one[purposes] = status; purposes = one; }
      var before = tracking();
      var current = choices();
      var decided = current.p || {};
      for (var purpose in purposes) {
        if (PURPOSES.indexOf(purpose) < 0) continue;
        var value = purposes[purpose];
        if (value === true) value = "granted";
        else if (value === false) value = decided[purpose] === "granted" ? "withdrawn" : "denied";
        decided[purpose] = value;
      }
      writeCookie(COOKIE.consent, JSON.stringify({ p: decided, v: config.policyVersion }), lifetime());
      var now = tracking();
      if (now) {
        anonymousId();
        touchVisit();
        syncConsent(true);
        if (!before && config.autoPage && !pageSent) api.page();
      } else {
        if (before) syncConsent(true);
        flush();
        forget();
      }
      return now;
    },

    isReturning: function () { return tracking() && visit.returning; },
    visitNumber: function () { return tracking() ? visit.number : 0; },
    anonymousId: function () { return tracking() ? readCookie(COOKIE.id) : null; },
    userId: function () { return tracking() ? readCookie(COOKIE.user) : null; },
    consentGiven: function (purpose) { return (choices().p || {})[purpose || "tracking"] || null; },
    reset: function () { dropCookie(COOKIE.user); dropCookie(COOKIE.id); visit.returning = false; },
    flush: flush,
    personalise: function () { return personalise(); },
    config: config
  };

  // Tell the server the visitor's choices, once per user (or at once when they change).
  function syncConsent(changed) {
    var id = readCookie(COOKIE.id);
    var user = readCookie(COOKIE.user);
    var current = choices();
    if (!id && !user) return;
    if (!current.p || (!changed && current.u === (user || ""))) return;
    post("/v1/consent", {
      anonymousId: id || undefined,
      userId: user || undefined,
      purposes: current.p,
      policyVersion: current.v || undefined,
      source: "snippet",
      timestamp: new Date().toISOString()
    });
    current.u = user || "";
    writeCookie(COOKIE.consent, JSON.stringify(current), lifetime());
  }

  window.kizuna = api;
  if (tracking()) touchVisit();

  // Calls made before the snippet loaded: window.kizuna = [["track", "Signed Up", {...}], ...]
  var queued = Array.isArray(stub) ? stub : [];
  for (var q = 0; q < queued.length; q++) {
    var call = queued[q];
    if (call && typeof api[call[0]] === "function") api[call[0]].apply(api, call.slice(1));
  }
  if (config.autoPage && !pageSent) api.page();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", personalise);
  else personalise();
})(window, document);
