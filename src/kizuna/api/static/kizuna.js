/*! kizuna.js: the first-party tracking snippet served by your kizuna server. Apache-2.0. */
(function (window, document) {
  "use strict";

  // The server replaces this object with its settings (snippet_consent, snippet_cookie_days ...).
  var DEFAULTS = /*KIZUNA_DEFAULTS*/ { consent: "opt-in", cookieDays: 395, visitMinutes: 30 } /*END*/;
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
    autoPage: String(pick("autoPage", "true")) !== "false"
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
})(window, document);
