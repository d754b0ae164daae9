/* The hall screen (/screen): the call in progress, the last calls, waiting per queue, notices.
 *
 * Plain browser JavaScript, no build step; common.js (Onestop) provides texts, the API helper
 * and the reconnecting event stream. Data only ever reaches the page through textContent.
 *
 * A call flashes and chimes only when it is news. Calls replayed while the stream catches up
 * after an outage (committed before the socket opened, up to the ledger head /healthz reports at
 * that moment), and calls whose time is more than STALE_MS older than the newest event seen,
 * update the lists quietly.
 */
(function () {
  'use strict';

  var O = window.Onestop;
  var boot = O.boot;
  var TZ = (boot.hall && boot.hall.timezone) || 'Asia/Shanghai';
  var RECENT_MAX = boot.recent_calls || 8;
  var FLASH_MS = boot.flash_ms || 6000;
  var STALE_MS = boot.stale_ms || 30000;
  var NOTICE_REFRESH_MS = boot.notice_refresh_ms || 60000;
  var OFFLINE_GRACE_MS = 3000;   // a blip shorter than this shows no banner
  var MARQUEE_PX_PER_S = 150;    // about three characters a second at 50 px

  var state = {
    queues: (boot.queues || []).map(function (q) { return copy(q); }),
    calls: [],          // newest first, one entry per ticket
    current: null,      // the call shown large
    notices: [],
    noticeKey: null,
    noticeGen: 0,
    newestAt: 0,        // ms: the newest event time seen
    offsetMs: 0,        // server clock − this browser's clock, from the last snapshot
    today: null,        // the hall's service day, 'YYYY-MM-DD'
    connected: false,
    received: false,    // a message came: the stream admits this screen
    flashes: 0,
    chimes: 0,
    audio: null
  };

  var sync = { active: false, buffer: [], token: null };
  var catchUp = { head: -1, before: -Infinity };  // see isCatchUp
  var flashTimer = null;
  var offlineTimer = null;
  var marquee = null;
  var stream = null;

  function $(id) { return document.getElementById(id); }

  function copy(obj) {
    var out = {};
    Object.keys(obj || {}).forEach(function (k) { out[k] = obj[k]; });
    return out;
  }

  /* ---- names --------------------------------------------------------------------------------
   * Same rule as onestop.signage.screen.mask_name: 张三 → 张*, 欧阳娜娜 → 欧***, Li Lei → L*. */

  function isCjk(ch) {
    var code = ch.codePointAt(0);
    return (code >= 0x2E80 && code <= 0x9FFF) || (code >= 0xAC00 && code <= 0xD7AF) ||
      (code >= 0xF900 && code <= 0xFAFF) || (code >= 0x20000 && code <= 0x3FFFF);
  }

  function maskName(name) {
    var chars = Array.from(String(name === null || name === undefined ? '' : name).trim())
      .filter(function (ch) { return !/\s/.test(ch); });
    if (!chars.length) return '';
    if (chars.some(isCjk)) return chars[0] + '*'.repeat(Math.max(1, chars.length - 1));
    return chars[0] + '*';
  }

  /* ---- time ---------------------------------------------------------------------------------- */

  /* '2026-11-25T09:31:02.123456+08:00' → ms; Date.parse wants at most milliseconds. */
  function parseAt(text) {
    if (typeof text !== 'string') return null;
    var m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$/.exec(text);
    if (!m) return null;
    var ms = Date.parse(m[1] + (m[2] ? m[2].slice(0, 4) : '') + (m[3] || 'Z'));
    return isNaN(ms) ? null : ms;
  }

  function serverNow() { return Date.now() + state.offsetMs; }

  function formatter(locale, options) {
    options.timeZone = TZ;
    try {
      return new Intl.DateTimeFormat(locale, options);
    } catch (e) {
      delete options.timeZone;
      return new Intl.DateTimeFormat(locale, options);
    }
  }

  var locale = O.lang === 'en' ? 'en-GB' : 'zh-CN';
  var fmtClock = formatter(locale, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  var fmtDate = formatter(locale, { year: 'numeric', month: 'long', day: 'numeric' });
  var fmtWeekday = formatter(locale, { weekday: 'long' });
  var fmtDay = formatter('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit' });

  function hallDay(ms) {
    var parts = {};
    fmtDay.formatToParts(new Date(ms)).forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + '-' + parts.month + '-' + parts.day;
  }

  function tick() {
    var now = new Date(serverNow());
    $('clock').textContent = fmtClock.format(now);
    $('date').textContent = fmtDate.format(now) + ' ' + fmtWeekday.format(now);
    var today = hallDay(now.getTime());
    if (state.today !== today) {
      state.today = today;
      dropOtherDays();
    }
    renderNotices();  // a notice whose end has passed leaves without waiting for the server
  }

  /* ---- fitting text ------------------------------------------------------------------------- */

  /* Shrink a one-line element's font until its text fits its box (long names, English). */
  function fit(node) {
    if (!node || node.hidden) return;
    node.style.fontSize = '';
    for (var i = 0; i < 4 && node.scrollWidth > node.clientWidth + 1; i++) {
      var size = parseFloat(getComputedStyle(node).fontSize);
      node.style.fontSize = (size * node.clientWidth / node.scrollWidth * 0.98) + 'px';
    }
  }

  function fitAll(root) {
    (root || document).querySelectorAll('.fit').forEach(fit);
  }

  /* ---- counters and calls --------------------------------------------------------------------- */

  function windowName(ticket) {
    var names = boot.counters && boot.counters[String(ticket.counter)];
    if (names) return O.pick(names, 'name');
    if (ticket.counter_name) return ticket.counter_name;
    return ticket.counter === null || ticket.counter === undefined ? '' : String(ticket.counter);
  }

  function callFrom(ticket, at) {
    return {
      id: ticket.id,
      number: String(ticket.number),
      counter: ticket.counter,
      window: windowName(ticket),
      name: maskName(ticket.resident_name),
      service: O.pick(ticket, 'service_name'),
      priority: ticket.priority,
      day: ticket.service_day || null,
      at: at
    };
  }

  function dropOtherDays() {
    if (!state.today) return;
    var before = state.calls.length;
    state.calls = state.calls.filter(function (c) { return !c.day || c.day === state.today; });
    if (state.current && state.current.day && state.current.day !== state.today) state.current = null;
    if (state.calls.length !== before || !state.current) {
      renderCurrent();
      renderRecent();
    }
  }

  function addCall(ticket, event, announce) {
    if (!ticket || ticket.number === undefined || ticket.counter === null || ticket.counter === undefined) return;
    var call = callFrom(ticket, event.at);
    state.calls = [call].concat(state.calls.filter(function (c) { return c.id !== call.id; }))
      .slice(0, RECENT_MAX);
    state.current = call;
    renderCurrent();
    renderRecent();
    if (announce) {
      flash(event.seq);
      chime();
    }
  }

  function renderCurrent() {
    var call = state.current;
    $('current-call').hidden = !call;
    $('current-idle').hidden = !!call;
    if (!call) return;
    $('current-number').textContent = call.number;
    $('current-window').textContent = call.window;
    $('current-name').textContent = call.name;
    $('current-name').hidden = !call.name;
    $('current-service').textContent = call.service;
    fitAll($('current'));
  }

  function renderRecent() {
    var list = $('recent');
    list.textContent = '';
    state.calls.forEach(function (call, i) {
      var children = [
        O.el('span', { className: 'r-number', text: call.number }),
        call.name ? O.el('span', { className: 'r-name', text: call.name }) : null,
        O.el('span', { className: 'r-arrow', text: '→', attrs: { 'aria-hidden': 'true' } }),
        O.el('span', { className: 'r-window', text: call.window })
      ];
      list.appendChild(O.el('li', {
        className: i === 0 ? 'latest' : '',
        dataset: { number: call.number, counter: call.counter }
      }, children));
    });
    $('recent-empty').hidden = state.calls.length > 0;
  }

  function flash(seq) {
    var panel = $('current');
    panel.classList.remove('flash');
    void panel.offsetWidth;  // restart the animation when a recall follows a call
    panel.classList.add('flash');
    panel.setAttribute('data-flash-seq', String(seq));
    state.flashes += 1;
    if (flashTimer) clearTimeout(flashTimer);
    flashTimer = setTimeout(function () {
      flashTimer = null;
      panel.classList.remove('flash');
    }, FLASH_MS);
  }

  /* ---- the chime: two tones from the Web Audio API, no audio file ---------------------------- */

  function tone(ctx, freq, start, length) {
    [[1, 0.32], [2.76, 0.06]].forEach(function (partial) {  // a bell: fundamental + overtone
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.setValueAtTime(freq * partial[0], start);
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(partial[1], start + 0.015);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + length);
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start(start);
      osc.stop(start + length + 0.05);
    });
  }

  function chime() {
    state.chimes += 1;
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      if (!state.audio) state.audio = new Ctx();
      var ctx = state.audio;
      if (ctx.state === 'suspended' && ctx.resume) ctx.resume().catch(function () {});
      var t0 = ctx.currentTime + 0.05;
      tone(ctx, 659.25, t0, 1.0);        // E5: "ding"
      tone(ctx, 523.25, t0 + 0.55, 1.6); // C5: "dong"
    } catch (e) {
      /* no audio device: the screen still shows the call */
    }
  }

  /* A touch (if the TV has one) unlocks audio in a browser started without the autoplay flag. */
  function unlockAudio() {
    if (state.audio && state.audio.state === 'suspended') state.audio.resume().catch(function () {});
  }
  document.addEventListener('pointerdown', unlockAudio);
  document.addEventListener('keydown', unlockAudio);

  /* ---- queues --------------------------------------------------------------------------------- */

  function setQueues(list) {
    state.queues = (list || []).map(function (q) {
      return { id: q.id, prefix: q.prefix, name: q.name, name_en: q.name_en, waiting: q.waiting };
    });
    renderQueues();
  }

  function updateCounts(counts) {
    var changed = false;
    state.queues.forEach(function (q) {
      if (Object.prototype.hasOwnProperty.call(counts, q.id) && q.waiting !== counts[q.id]) {
        q.waiting = counts[q.id];
        changed = true;
      }
    });
    if (changed) renderQueues();
  }

  function renderQueues() {
    var list = $('queues');
    list.textContent = '';
    state.queues.forEach(function (q) {
      var known = typeof q.waiting === 'number';
      var count = [];
      if (O.t('waiting_label')) count.push(O.el('span', { className: 'q-label', text: O.t('waiting_label') }));
      count.push(O.el('b', { className: 'q-n', text: known ? q.waiting : '–' }));
      if (O.t('persons_unit')) count.push(O.el('span', { className: 'q-unit', text: O.t('persons_unit') }));
      list.appendChild(O.el('li', { dataset: { queue: q.id, waiting: known ? q.waiting : '' } }, [
        O.el('span', { className: 'q-prefix', text: q.prefix }),
        O.el('span', { className: 'q-name', text: O.pick(q, 'name') }),
        O.el('span', { className: 'q-count' }, count)
      ]));
    });
  }

  /* ---- notices ------------------------------------------------------------------------------- */

  function setNotices(list) {
    state.notices = Array.isArray(list) ? list : [];
    renderNotices();
  }

  /* The event carries the change and the ids showing (onestop.signage.notice_changes); an id
   * this screen has not seen (a notice that started showing since) means fetching the list. */
  function applyNoticeChange(data) {
    if (Array.isArray(data.notices)) { setNotices(data.notices); return; }  // the older format
    if (!Array.isArray(data.showing) || !data.change) { loadNotices(); return; }
    var byId = {};
    state.notices.forEach(function (n) { byId[n.id] = n; });
    if (data.notice) byId[data.notice.id] = data.notice;
    else delete byId[data.change.id];
    var list = data.showing.filter(function (id) { return byId[id]; })
                           .map(function (id) { return byId[id]; });
    setNotices(list);
    if (list.length !== data.showing.length) loadNotices();
  }

  function loadNotices() {
    var gen = state.noticeGen;
    return O.api('GET', '/api/notices').then(function (list) {
      if (gen === state.noticeGen) setNotices(list);  // an event since the request is newer
    }, function () { /* keep what is showing; the next refresh or event brings it up to date */ });
  }

  function showing() {
    var now = serverNow();
    return state.notices.filter(function (n) {
      var ends = parseAt(n.ends_at);
      return ends === null || ends > now;
    });
  }

  function renderNotices() {
    var notices = showing();
    var items = notices.map(function (n) {
      var title = O.pick(n, 'title');
      var body = String(O.pick(n, 'body') || '').replace(/\s+/g, ' ').trim();
      return [title, body];
    });
    var key = O.lang + JSON.stringify(items);
    if (key === state.noticeKey) return;
    state.noticeKey = key;
    var track = $('notices');
    track.textContent = '';
    if (marquee) {
      marquee.cancel();
      marquee = null;
    }
    track.className = 'sc-track';
    if (!items.length) {
      track.appendChild(O.el('span', { className: 'n-item n-welcome',
        text: O.t('notices_empty', { hall: O.pick(boot.hall, 'name') }) }));
      if (track.scrollWidth <= $('marquee').clientWidth - 48) {
        track.className = 'sc-track still';  // a welcome that fits stands still
        return;
      }
    }
    items.forEach(function (item) {
      track.appendChild(O.el('span', { className: 'n-item' }, [
        O.el('span', { className: 'n-title', text: item[0] }),
        item[1] ? O.el('span', { className: 'n-body', text: item[1] }) : null
      ]));
    });
    startMarquee();
  }

  function startMarquee() {
    var track = $('notices');
    var box = $('marquee').clientWidth;
    var width = track.scrollWidth;
    if (!track.animate || !box || !width) return;
    marquee = track.animate(
      [{ transform: 'translateX(' + box + 'px)' }, { transform: 'translateX(' + (-width) + 'px)' }],
      { duration: (box + width) / MARQUEE_PX_PER_S * 1000, iterations: Infinity }
    );
  }

  /* ---- events -------------------------------------------------------------------------------- */

  function applySnapshot(event) {
    var data = event.data || {};
    var at = parseAt(event.at);
    if (at !== null) state.offsetMs = at - Date.now();
    state.today = hallDay(serverNow());
    catchUp = { head: -1, before: -Infinity };  // everything after a snapshot is live
    setQueues(data.queues);
    var seen = {};
    state.calls = [];
    (data.recent_calls || []).forEach(function (ticket) {
      if (!ticket || seen[ticket.id] || ticket.counter === null || ticket.counter === undefined) return;
      if (ticket.service_day && ticket.service_day !== state.today) return;
      seen[ticket.id] = true;
      if (state.calls.length < RECENT_MAX) state.calls.push(callFrom(ticket, ticket.called_at));
    });
    state.current = state.calls[0] || null;
    renderCurrent();
    renderRecent();
  }

  /* Replayed after a reconnect: in the ledger when the socket opened (seq up to the head
   * /healthz reported then) and committed before the socket opened. Both must hold, so neither a
   * slow /healthz answer nor a browser clock that jumped can silence a call made after. The
   * opening time is the browser's estimate of the server clock, so it gets CLOCK_SLACK_MS of
   * tolerance: a call committed just before the reconnect must not flash as news. */
  var CLOCK_SLACK_MS = 1000;
  function isCatchUp(event, at) {
    return event.seq <= catchUp.head && (at === null || at < catchUp.before + CLOCK_SLACK_MS);
  }

  function apply(event) {
    try {  // screen_day.js follows the hall's day (paused windows, phase) from the same stream
      document.dispatchEvent(new CustomEvent('onestop:screen', { detail: { event: event } }));
    } catch (e) {
      if (window.console) console.error(e);
    }
    var at = parseAt(event.at);
    var quiet = isCatchUp(event, at) || (at !== null && state.newestAt - at > STALE_MS);
    if (at !== null && at > state.newestAt) state.newestAt = at;
    var data = event.data || {};
    switch (event.type) {
      case 'snapshot':
        applySnapshot(event);
        return;
      case 'ticket.called':
      case 'ticket.recalled':
        addCall(data.ticket, event, !quiet);
        break;
      case 'notice.changed':
        state.noticeGen += 1;
        applyNoticeChange(data);
        break;
      default:
        break;  // counter.paused / resumed: nothing special on the screen yet
    }
    if (data.queues && typeof data.queues === 'object' && !Array.isArray(data.queues)) {
      updateCounts(data.queues);
    }
  }

  function onEvent(event) {
    if (!state.received) {
      state.received = true;
      renderStatus();
    }
    if (sync.active) {
      if (event.type !== 'snapshot') {
        sync.buffer.push(event);
        return;
      }
      endSync(catchUp);  // a snapshot supersedes the catch-up: what follows it is live
    }
    apply(event);
  }

  /* A socket opened. On a reconnect (with ?since) the server first replays what was missed;
   * until /healthz says how far the ledger reached, events wait in a buffer. */
  function onOpen(socket) {
    if (stream.lastSeq === null) return;  // a snapshot comes first and marks where live begins
    var token = {};
    var openedAt = serverNow();
    sync = { active: true, buffer: sync.active ? sync.buffer : [], token: token };
    O.api('GET', '/healthz', undefined, 3000).then(function (health) {
      return health && typeof health.seq === 'number' ? health.seq : Infinity;
    }, function () {
      return Infinity;  // unknown: the time of opening alone decides
    }).then(function (head) {
      if (sync.token !== token) return;
      endSync({ head: head, before: openedAt });
      if (stream.socket === socket && socket.readyState === WebSocket.OPEN) onStatus(true);
    });
  }

  function onClose() {
    sync.token = null;  // a pending /healthz answer is about a dead socket; keep the buffer
    onStatus(false);
  }

  function endSync(bounds) {
    var buffered = sync.buffer;
    sync = { active: false, buffer: [], token: null };
    catchUp = bounds;
    buffered.forEach(apply);
  }

  function onStatus(connected) {
    var was = state.connected;
    state.connected = connected;
    if (connected) {
      if (offlineTimer) clearTimeout(offlineTimer);
      offlineTimer = null;
      document.body.classList.remove('offline');
      if (!was) loadNotices();  // notices that started or ended while we were away
    } else if (!offlineTimer && !document.body.classList.contains('offline')) {
      offlineTimer = setTimeout(function () {
        offlineTimer = null;
        if (!state.connected) document.body.classList.add('offline');
        renderStatus();
      }, OFFLINE_GRACE_MS);
    }
    renderStatus();
  }

  /* "Not enrolled" until the first message shows the stream admits this screen (with the
   * common.js of issue [3/5] a socket the server is about to refuse still opens first). */
  function renderStatus() {
    var box = $('status');
    var text = '';
    if (!state.received && !boot.public_screen && !O.deviceToken()) text = O.t('not_enrolled');
    else if (document.body.classList.contains('offline')) text = O.t('offline');
    box.textContent = text;
    box.hidden = !text;
  }

  /* EventStream, plus callbacks when a socket opens and closes. EventStream itself reports
   * "connected" only with the first message, which after a quiet reconnect may be long in
   * coming; the screen must not say it is offline meanwhile. */
  function ScreenStream() {
    O.EventStream.call(this, onEvent, onStatus);
  }
  ScreenStream.prototype = Object.create(O.EventStream.prototype);
  ScreenStream.prototype.constructor = ScreenStream;
  ScreenStream.prototype._connect = function () {
    O.EventStream.prototype._connect.call(this);
    var self = this;
    var socket = this.socket;
    if (!socket) return;
    socket.addEventListener('open', function () {
      if (self.socket === socket) onOpen(socket);
    });
    socket.addEventListener('close', function () {
      if (self.socket === socket || self.socket === null) onClose();
    });
  };

  /* ---- start ---------------------------------------------------------------------------------- */

  renderQueues();
  renderCurrent();
  renderRecent();
  tick();
  fitAll(document.querySelector('.sc-top'));
  renderStatus();
  onStatus(false);  // until the stream connects; says so if that takes long
  setInterval(tick, 1000);
  setInterval(loadNotices, NOTICE_REFRESH_MS);
  loadNotices();
  stream = new ScreenStream();
  stream.start();
  window.addEventListener('resize', function () {
    fitAll();
    state.noticeKey = null;
    renderNotices();
  });

  /* For tests and diagnostics. `receive` feeds an event as if it came from the stream. */
  window.OnestopScreen = {
    /* The day script measures the server's clock on every GET /api/day: the header clock
       follows it even when no snapshot came (a reconnect that resumed with since). */
    setOffset: function (ms) { if (typeof ms === 'number' && isFinite(ms)) state.offsetMs = ms; },
    loadId: O.randomId(),
    state: state,
    stream: stream,
    maskName: maskName,
    parseAt: parseAt,
    receive: onEvent,
    fit: fit,
    serverNow: serverNow
  };
})();
