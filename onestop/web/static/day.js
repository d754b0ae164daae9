/* The hall's day on every page (kiosk, counter, hall screen, admin): GET /api/day, kept fresh.
 *
 * Loaded after common.js. One watcher per page fetches the day at load, every minute, at the
 * next boundary the day names (an issuing cut-off, a lunch slot's start or end), and whenever
 * the page asks (a day.* / lunch.changed / counter.* event). The server's clock decides: the
 * offset between its `now` and this browser's clock is kept, so a countdown never trusts a PC
 * clock that is wrong (or a test server started at 11:27). The words live here, zh and en.
 */
(function () {
  'use strict';

  var O = window.Onestop;

  var TEXTS = {
    zh: {
      lunch_break: '午餐轮休 {range}',
      lunch_none: '本窗口今日不轮休',
      lunch_countdown: '{left} 后午餐轮休，本号办结后暂停服务',
      lunch_pending: '本号办结后暂停服务（{reason}）',
      lunch_paused_until: '{reason}轮休中，{time} 恢复',
      paused_until: '暂停服务（{reason}），{time} 恢复',
      window_paused_to: '{window} 暂停服务，请到{alt}',
      window_paused_reason: '{window} 暂停服务（{reason}）',
      window_paused: '{window} 暂停服务',
      phase_extended: '延时服务中：取号已截止，正在办理剩余业务',
      phase_after_cutoff: '今日取号已截止，正在办理剩余业务',
      phase_closed: '今日办理已结束',
      phase_closed_day: '今日不办公',
      phase_appointments: '今日为预约服务日，仅办理已预约业务，请凭预约码签到',
      issuing_closed: '今日取号已截止',
      next_open: '下次办公：{when}',
      unknown: '—'
    },
    en: {
      lunch_break: 'Lunch break {range}',
      lunch_none: 'No lunch break at this window today',
      lunch_countdown: 'Lunch break in {left}: the window pauses after this ticket',
      lunch_pending: 'The window pauses after this ticket ({reason})',
      lunch_paused_until: 'On lunch break ({reason}), back at {time}',
      paused_until: 'Paused ({reason}), back at {time}',
      window_paused_to: '{window} is closed, please go to {alt}',
      window_paused_reason: '{window} is closed ({reason})',
      window_paused: '{window} is closed',
      phase_extended: 'Extended hours: no more numbers today, remaining residents are being served',
      phase_after_cutoff: 'No more numbers today; remaining residents are being served',
      phase_closed: 'Service has ended for today',
      phase_closed_day: 'The hall is closed today',
      phase_appointments: 'Appointments only today: check in with your booking code',
      issuing_closed: 'No more numbers today',
      next_open: 'Next open: {when}',
      unknown: '—'
    }
  };

  var D = {};

  D.t = function (key, vars) {
    var table = TEXTS[O.lang] || TEXTS.zh;
    var text = key in table ? table[key] : (TEXTS.zh[key] || key);
    if (vars) {
      text = text.replace(/\{(\w+)\}/g, function (m, name) {
        return Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : m;
      });
    }
    return text;
  };

  /* '2026-11-25T12:10:00+08:00' (microseconds allowed) → ms since the epoch, or null. */
  D.parseAt = function (text) {
    if (typeof text !== 'string') return null;
    var m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?)(\.\d+)?(Z|[+-]\d\d:\d\d)?$/.exec(text);
    if (!m) return null;
    var ms = Date.parse(m[1] + (m[2] ? m[2].slice(0, 4) : '') + (m[3] || 'Z'));
    return isNaN(ms) ? null : ms;
  };

  /* The hall-local clock time of an ISO stamp the server wrote in hall time: '12:50'. */
  D.hhmm = function (iso) {
    return typeof iso === 'string' && iso.length >= 16 ? iso.slice(11, 16) : '';
  };

  /* 299.4 s → '4:59' (never negative; rounded down so the banner never shows 5:00 of 5 min). */
  D.mmss = function (seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    var s = seconds % 60;
    return Math.floor(seconds / 60) + ':' + (s < 10 ? '0' : '') + s;
  };

  /* The window's own name in the current language, from the day's window list. */
  D.windowName = function (day, number) {
    var list = (day && day.windows) || [];
    for (var i = 0; i < list.length; i++) {
      if (list[i].number === number) return O.pick(list[i], 'name') || String(number);
    }
    return O.lang === 'en' ? 'Window ' + number : number + '号窗口';
  };

  D.windowOf = function (day, number) {
    var list = (day && day.windows) || [];
    for (var i = 0; i < list.length; i++) if (list[i].number === number) return list[i];
    return null;
  };

  /* The lunch slots a window is closed in, each {index, label, start, end, startMs, endMs}. */
  D.breaksOf = function (day, number) {
    var lunch = day && day.lunch;
    if (!lunch || !lunch.slots || !lunch.closed) return [];
    var indexes = lunch.closed[String(number)] || [];
    return indexes.map(function (i) {
      var slot = lunch.slots[i];
      if (!slot) return null;
      return { index: i, label: slot.label || (D.hhmm(slot.start) + '-' + D.hhmm(slot.end)),
               start: slot.start, end: slot.end,
               startMs: D.parseAt(slot.start), endMs: D.parseAt(slot.end) };
    }).filter(Boolean).sort(function (a, b) { return a.startMs - b.startMs; });
  };

  /* What the hall screen says about the day's phase, or '' when there is nothing to say. */
  D.phaseLine = function (day) {
    if (!day) return '';
    if (day.check_in_only || day.kind === 'appointments') {
      if (day.phase === 'closed') return D.t('phase_closed');
      return D.t('phase_appointments');
    }
    switch (day.phase) {
      case 'extended': return D.t('phase_extended');
      case 'after_cutoff': return D.t('phase_after_cutoff');
      case 'closed': return D.t('phase_closed');
      case 'closed_day': return D.t('phase_closed_day');
      default: return '';
    }
  };

  /* "5号窗口 暂停服务，请到6号窗口" for every paused window, in window order. */
  D.pausedLines = function (day) {
    return ((day && day.windows) || []).filter(function (w) {
      return w.state === 'paused';
    }).sort(function (a, b) { return a.number - b.number; }).map(function (w) {
      var name = O.pick(w, 'name') || D.windowName(day, w.number);
      // The day names the alternative in Chinese only; the window list has both languages.
      var hasAlt = w.alternative !== null && w.alternative !== undefined;
      var alt = hasAlt ? D.windowName(day, w.alternative) : '';
      if (O.lang !== 'en' && w.alternative_name) alt = w.alternative_name;
      var text = alt ? D.t('window_paused_to', { window: name, alt: alt })
        : (w.pause_reason ? D.t('window_paused_reason', { window: name, reason: w.pause_reason })
                          : D.t('window_paused', { window: name }));
      return { number: w.number, alternative: w.alternative, text: text };
    });
  };

  /* An issuing entry's message for a closed queue, in the current language. */
  D.issuingMessage = function (entry) {
    if (!entry) return '';
    var text = O.lang === 'en' ? (entry.message_en || '') : (entry.message || '');
    return text || D.t('issuing_closed');
  };

  /* ---- the watcher ------------------------------------------------------------------------- */

  var POLL_MS = 60000;

  /* watch(onDay): calls onDay(day) with every fresh GET /api/day; returns {refresh, now, day}. */
  D.watch = function (onDay, onError) {
    var w = { day: null, offsetMs: 0, inflight: null, again: false, boundary: null };

    w.now = function () { return Date.now() + w.offsetMs; };

    w.refresh = function () {
      if (w.inflight) {
        w.again = true;
        return w.inflight;
      }
      var sent = Date.now();
      w.inflight = O.api('GET', '/api/day').then(function (day) {
        var got = Date.now();
        var serverNow = day ? D.parseAt(day.now) : null;
        if (serverNow !== null) w.offsetMs = serverNow - (sent + got) / 2;
        w.day = day;
        schedule(day);
        onDay(day);
      }, function (err) {
        if (onError) onError(err);
      }).finally(function () {
        w.inflight = null;
        if (w.again) {
          w.again = false;
          w.refresh();
        }
      });
      return w.inflight;
    };

    /* The next moment the day changes by itself (cut-off, a lunch slot's edge): re-read then. */
    function schedule(day) {
      if (w.boundary) clearTimeout(w.boundary);
      w.boundary = null;
      if (!day) return;
      var now = w.now();
      var marks = [day.opens_at, day.closes_at, day.early_open_at];
      Object.keys(day.issuing || {}).forEach(function (q) { marks.push(day.issuing[q].until); });
      ((day.lunch && day.lunch.slots) || []).forEach(function (s) { marks.push(s.start, s.end); });
      var next = null;
      marks.forEach(function (iso) {
        var ms = D.parseAt(iso);
        if (ms !== null && ms > now && (next === null || ms < next)) next = ms;
      });
      if (next !== null && next - now < POLL_MS) {
        w.boundary = setTimeout(function () { w.boundary = null; w.refresh(); }, next - now + 1500);
      }
    }

    setInterval(function () { w.refresh(); }, POLL_MS);
    document.addEventListener('visibilitychange', function () { if (!document.hidden) w.refresh(); });
    w.refresh();
    return w;
  };

  /* Event types after which a page re-reads the day. */
  D.isDayEvent = function (event) {
    var type = event && event.type;
    return type === 'snapshot' || type === 'lunch.changed' || type === 'counter.pause_pending' ||
      (typeof type === 'string' && (type.indexOf('day.') === 0 || type.indexOf('counter.') === 0));
  };

  D.TEXTS = TEXTS;
  window.OnestopDay = D;
})();
