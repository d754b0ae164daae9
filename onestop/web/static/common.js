/* Shared by every room's pages (onestop/web/static, served at /static/web): texts, API calls,
 * the event stream, the hall's clock.
 *
 * Plain browser JavaScript, no build step. Data from the API or the config is only ever put
 * into the page with textContent / setAttribute, never as HTML.
 */
(function () {
  'use strict';

  var boot = JSON.parse(document.getElementById('boot').textContent);
  var O = { boot: boot, lang: boot.lang === 'en' ? 'en' : 'zh' };

  /* ---- texts ------------------------------------------------------------------------------ */

  O.t = function (key, vars) {
    var table = boot.texts[O.lang] || {};
    var text = key in table ? table[key] : (key in boot.texts.zh ? boot.texts.zh[key] : key);
    if (vars) {
      text = text.replace(/\{(\w+)\}/g, function (m, name) {
        return Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : m;
      });
    }
    return text;
  };

  /* obj.name or obj.name_en, whichever the current language wants (zh when English is missing). */
  O.pick = function (obj, field) {
    if (!obj) return '';
    if (O.lang === 'en' && obj[field + '_en']) return obj[field + '_en'];
    return obj[field] == null ? '' : obj[field];
  };

  /* A {message, message_en} pair (API errors, printer messages) in the current language. */
  O.pickMessage = function (pair, fallbackKey) {
    if (pair) {
      var text = O.lang === 'en' ? (pair.message_en || '') : (pair.message || '');
      if (text) return text;
    }
    return O.t(fallbackKey || 'server_error');
  };

  /* Every element with data-t gets its text from the table; called after a language switch. */
  O.applyTexts = function (root) {
    (root || document).querySelectorAll('[data-t]').forEach(function (node) {
      node.textContent = O.t(node.getAttribute('data-t'));
    });
    document.documentElement.lang = O.t('html_lang');
  };

  O.setLang = function (lang) {
    O.lang = lang === 'en' ? 'en' : 'zh';
    O.applyTexts();
  };

  /* Same rules as pages.format_wait. */
  O.fmtWait = function (seconds, zeroKey) {
    if (seconds === null || seconds === undefined) return O.t('wait_unknown');
    if (seconds <= 0) return O.t(zeroKey || 'wait_soon');
    var minutes = Math.max(1, Math.ceil(seconds / 60));
    if (minutes < 60) return O.t('wait_minutes', { m: minutes });
    return O.t('wait_hours', { h: Math.floor(minutes / 60), m: minutes % 60 });
  };

  /* ---- DOM --------------------------------------------------------------------------------- */

  /* el('div', {className: 'x', text: 'y', attrs: {...}}, [children]) — text only, never HTML. */
  O.el = function (tag, opts, children) {
    var node = document.createElement(tag);
    opts = opts || {};
    if (opts.className) node.className = opts.className;
    if (opts.text !== undefined && opts.text !== null) node.textContent = String(opts.text);
    if (opts.attrs) {
      Object.keys(opts.attrs).forEach(function (name) {
        node.setAttribute(name, String(opts.attrs[name]));
      });
    }
    if (opts.dataset) {
      Object.keys(opts.dataset).forEach(function (name) {
        node.dataset[name] = String(opts.dataset[name]);
      });
    }
    (children || []).forEach(function (child) {
      if (child) node.appendChild(child);
    });
    return node;
  };

  O.show = function (node, visible) {
    if (node) node.hidden = !visible;
  };

  /* ---- ids --------------------------------------------------------------------------------- */

  /* A random idempotency key; crypto.randomUUID needs a secure context, kiosks may be on http. */
  O.randomId = function () {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ('0' + b.toString(16)).slice(-2);
    }).join('');
  };

  /* ---- API --------------------------------------------------------------------------------- */

  /* An error to show a resident: {message, message_en}; `network` when the server was not reached. */
  function ApiError(status, body, network) {
    this.status = status;
    this.network = !!network;
    body = body || {};
    this.code = body.error || null;
    this.message = typeof body.message === 'string' ? body.message : '';
    this.message_en = typeof body.message_en === 'string' ? body.message_en : '';
    this.details = body.details && typeof body.details === 'object' ? body.details : null;
  }
  O.ApiError = ApiError;

  /* The words for an error in the current language: never raw JSON, never a stack. */
  O.errorText = function (err) {
    if (err && err.key) return O.t(err.key);
    if (!err || err.network) return O.t('network_error');
    if (err.status === 503) return O.t('server_error');
    return O.pickMessage(err, 'server_error');
  };

  /* ---- credentials --------------------------------------------------------------------------
   * A kiosk or hall-screen device is enrolled once by opening its page with #token=<device token>
   * (printed by `onestop device add`); the token is kept in localStorage and sent as a bearer
   * token, never put back in the address bar. Staff pages send the session's CSRF token.
   */
  (function enrol() {
    var match = /(?:^|[#&])token=([A-Za-z0-9_-]+)/.exec(location.hash || '');
    if (match) {
      try { localStorage.setItem('onestop.deviceToken', match[1]); } catch (e) { /* private mode */ }
      history.replaceState(null, '', location.pathname + location.search);
    }
  })();
  O.deviceToken = function () {
    try { return localStorage.getItem('onestop.deviceToken'); } catch (e) { return null; }
  };
  O.csrfToken = function () {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute('content') : null;
  };

  O.api = function (method, url, body, timeoutMs) {
    var controller = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, timeoutMs || 10000) : null;
    var init = { method: method, headers: { Accept: 'application/json' }, cache: 'no-store',
                 credentials: 'same-origin' };
    if (controller) init.signal = controller.signal;
    var device = O.deviceToken();
    if (device) init.headers.Authorization = 'Bearer ' + device;
    var csrf = O.csrfToken();
    if (csrf && method !== 'GET') init.headers['X-CSRF-Token'] = csrf;
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!response.ok) throw new ApiError(response.status, data, false);
        return data;
      }, function () {
        throw new ApiError(response.status, null, true);
      });
    }, function () {
      throw new ApiError(0, null, true);
    }).finally(function () {
      if (timer) clearTimeout(timer);
    });
  };

  /* ---- the live event stream ----------------------------------------------------------------
   * /ws/events: first a snapshot (or, with ?since=SEQ, every event after SEQ), then live events.
   * Reconnects with the last seq seen, backing off up to 10 s; never delivers a seq twice.
   */
  function EventStream(onEvent, onStatus) {
    this.onEvent = onEvent;
    this.onStatus = onStatus || function () {};
    this.lastSeq = null;
    this.socket = null;
    this.stopped = true;
    this.retryMs = 1000;
    this.timer = null;
    this.connected = false;
  }

  EventStream.prototype.start = function () {
    if (!this.stopped) return;
    this.stopped = false;
    this._connect();
  };

  EventStream.prototype.stop = function () {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.socket) {
      try { this.socket.close(); } catch (e) { /* already closed */ }
    }
    this.socket = null;
  };

  /* Drop the connection and reconnect now (e.g. a phone woke up with a stale socket). */
  EventStream.prototype.kick = function () {
    if (this.stopped) return;
    if (this.socket && this.socket.readyState === WebSocket.OPEN) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.retryMs = 1000;
    if (!this.socket) this._connect();
  };

  EventStream.prototype._connect = function () {
    var self = this;
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/events';
    if (this.lastSeq !== null) url += '?since=' + encodeURIComponent(this.lastSeq);
    // Tokens go as subprotocols (a request header), never in the URL that proxies and the
    // server log; the server answers with "onestop".
    var protocols = ['onestop'];
    var device = O.deviceToken();
    if (device) protocols.push('bearer.' + device);
    if (O.ticketToken) protocols.push('ticket.' + O.ticketToken);
    var socket;
    try {
      socket = new WebSocket(url, protocols);
    } catch (e) {
      this._retry();
      return;
    }
    this.socket = socket;
    socket.onopen = function () {
      self.retryMs = 1000;
      // A reconnect with ?since= that missed nothing sends no message: open means connected.
      if (!self.connected) {
        self.connected = true;
        self.onStatus(true);
      }
    };
    socket.onmessage = function (message) {
      var event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      if (!event || typeof event.seq !== 'number') return;
      if (event.type === 'snapshot') {
        self.lastSeq = event.seq;
      } else {
        if (self.lastSeq !== null && event.seq <= self.lastSeq) return;
        self.lastSeq = event.seq;
      }
      if (!self.connected) {
        self.connected = true;
        self.onStatus(true);
      }
      try {
        self.onEvent(event);
      } catch (err) {
        if (window.console) console.error(err);
      }
    };
    socket.onclose = function () {
      if (self.socket !== socket) return;
      self.socket = null;
      if (self.connected) {
        self.connected = false;
        self.onStatus(false);
      }
      if (!self.stopped) self._retry();
    };
    socket.onerror = function () { /* onclose follows */ };
  };

  EventStream.prototype._retry = function () {
    var self = this;
    if (this.timer) clearTimeout(this.timer);
    var delay = this.retryMs + Math.floor(Math.random() * 500);
    this.retryMs = Math.min(this.retryMs * 2, 10000);
    this.timer = setTimeout(function () {
      self.timer = null;
      if (!self.stopped) self._connect();
    }, delay);
  };

  O.EventStream = EventStream;

  /* ---- the hall's clock -------------------------------------------------------------------- */

  O.clockParts = function (date) {
    var tz = (boot.hall && boot.hall.timezone) || undefined;
    var locale = O.lang === 'en' ? 'en-GB' : 'zh-CN';
    var time, day;
    try {
      time = new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit', hour12: false, timeZone: tz }).format(date);
      day = new Intl.DateTimeFormat(locale, { month: 'long', day: 'numeric', weekday: 'long', timeZone: tz }).format(date);
    } catch (e) {
      time = date.toTimeString().slice(0, 5);
      day = date.toDateString();
    }
    return { time: time, date: day };
  };

  O.timeOfDay = function (date) {
    var tz = (boot.hall && boot.hall.timezone) || undefined;
    try {
      return new Intl.DateTimeFormat('zh-CN', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false, timeZone: tz }).format(date);
    } catch (e) {
      return date.toTimeString().slice(0, 8);
    }
  };

  window.Onestop = O;
})();
