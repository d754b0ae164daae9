/* The counter terminal's part of the hall's day: this window's lunch break and its countdown.
 *
 * 中午不关门、轮流就餐: the server plans which windows close in which lunch slot and pauses a
 * window when its slot begins (after the resident at the window, if any, is done). The clerk must
 * see it coming: the break in the header ("午餐轮休 12:10-12:50"), a countdown in the last
 * `countdown_minutes` ("4:59 后午餐轮休，本号办结后暂停服务"), "本号办结后暂停服务（午餐）" while a
 * pause waits for the current ticket, and "午餐轮休中，12:50 恢复" during the break.
 *
 * Loaded before counter.js, which tells this script its window, each fresh window view and each
 * event (the 'onestop:counter' DOM event). Time is the server's (OnestopDay.watch keeps the
 * offset), never the PC's clock alone. Text only, through textContent.
 */
(function () {
  'use strict';

  var O = window.Onestop;
  var D = window.OnestopDay;

  var state = {
    window: null,
    day: null,
    dayAt: 0,        // Date.now() when the day arrived
    view: null,      // the newest counter view about this window (event or /today), if newer
    viewAt: 0
  };

  function $(id) { return document.getElementById(id); }

  var watcher = D.watch(function (day) {
    state.day = day;
    state.dayAt = Date.now();
    render();
  });

  /* This window's state: the day's window entry, overlaid by a newer counter view. */
  function windowState() {
    var base = D.windowOf(state.day, state.window) || {};
    var merged = {
      state: base.state, pause_reason: base.pause_reason, pause_until: base.pause_until,
      pending_pause: base.pending_pause
    };
    var view = state.view;
    if (view && state.viewAt >= state.dayAt) {
      ['state', 'pause_reason', 'pause_until', 'pending_pause'].forEach(function (key) {
        if (view[key] !== undefined) merged[key] = view[key];
      });
    }
    return merged;
  }

  function lunchReason() {
    return (state.day && state.day.lunch && state.day.lunch.reason) || '午餐';
  }

  /* The banner's words now, and its kind (countdown, pending, paused), or null. */
  function banner() {
    var ws = windowState();
    var reason = lunchReason();
    if (ws.state === 'paused') {
      if (!ws.pause_until) return null;  // an ordinary pause: the header already says so
      var key = (ws.pause_reason || reason) === reason ? 'lunch_paused_until' : 'paused_until';
      return { kind: 'paused', text: D.t(key, { reason: ws.pause_reason || reason, time: D.hhmm(ws.pause_until) }) };
    }
    if (ws.pending_pause) {
      return { kind: 'pending', text: D.t('lunch_pending', { reason: ws.pending_pause }) };
    }
    var lunch = state.day && state.day.lunch;
    var minutes = lunch && typeof lunch.countdown_minutes === 'number' ? lunch.countdown_minutes : 5;
    var now = watcher.now();
    var breaks = D.breaksOf(state.day, state.window);
    for (var i = 0; i < breaks.length; i++) {
      var left = breaks[i].startMs - now;
      if (left > 0 && left <= minutes * 60000) {
        return { kind: 'countdown', text: D.t('lunch_countdown', { left: D.mmss(left / 1000) }) };
      }
    }
    return null;
  }

  function render() {
    var info = $('lunch-info');
    var box = $('day-banner');
    if (!info || !box) return;
    if (state.window === null || !state.day) {
      info.hidden = true;
      box.hidden = true;
      return;
    }
    var breaks = D.breaksOf(state.day, state.window);
    info.textContent = breaks.length
      ? D.t('lunch_break', { range: breaks.map(function (b) { return b.label; }).join('、') }) : '';
    info.hidden = !breaks.length;
    var b = banner();
    if (b) {
      if (box.textContent !== b.text) box.textContent = b.text;
      box.dataset.kind = b.kind;
    }
    box.hidden = !b;
  }

  document.addEventListener('onestop:counter', function (e) {
    var detail = e.detail || {};
    if (detail.kind === 'window') {
      state.window = detail.window;
      state.view = null;
      render();
      return;
    }
    if (detail.kind === 'today' && detail.today && detail.window === state.window) {
      state.view = detail.today;
      state.viewAt = Date.now();
      render();
      return;
    }
    if (detail.kind === 'event') {
      var event = detail.event || {};
      var data = event.data || {};
      if (data.counter && data.counter.number === state.window) {
        state.view = data.counter;
        state.viewAt = Date.now();
        render();
        watcher.refresh();
      } else if (D.isDayEvent(event)) {
        watcher.refresh();
      }
    }
  });

  setInterval(render, 1000);

  /* For tests and diagnostics. */
  window.OnestopCounterDay = { state: state, watcher: watcher, banner: banner };
})();
