/* The clerk's counter terminal: call, recall, start, finish, no-show, transfer, pause, resume,
 * undo, and the clerk's presence at the window. This file is its core: what the page knows,
 * re-reading it, what is allowed now, the actions, the event stream, the keyboard and the wiring.
 *
 * The server is the only source of truth. Every action is one POST; after it (and after any event
 * about this window or its queues) the page re-reads the window. Two tabs or two clerks at one
 * window cannot corrupt anything: the server serialises, and a refused action (409) is shown in
 * plain words, followed by the fresh state. Data is only ever inserted with textContent.
 *
 * The terminal is several plain scripts, loaded in this order by counter.html, each with one job:
 *   counter_day.js          the hall's day: this window's lunch break (follows 'onestop:counter')
 *   counter.js              this core; it creates window.OnestopCounter
 *   counter_view.js         drawing the window's state: header, current ticket, timers, lists
 *   counter_presence.js     the heartbeat, the window picker, sitting down and leaving
 *   counter_corrections.js  过号 after a fair chance (countdown, confirmation) and 撤销
 *   counter_dialogs.js      the 承诺件, 转办 and 暂停 dialogs
 * They share one namespace, window.OnestopCounter (C below), and one DOM event:
 *   from counter.js:  state, boot, $, t, announce, showAlert, clearAlert, showNotice, pad,
 *                     fmtDuration, elapsed, counterName, computeMyQueues, refresh, ticket, isFree,
 *                     tState, allowed, updateButtons, act, handleError, openDialog, closeDialog,
 *                     showDialogError, dialogOpen, startStream
 *   the others add:   view: render, renderWho; presence: beat, showPicker, startTerminal,
 *                     leaveWindow, recheckWindow, refreshPicker; corrections: noShowLeft, noShow,
 *                     tickNoShow, tickUndo, closeStaleNoShow; dialogs: openCommitted.
 * This core calls the others' functions only once the page is running, never while loading; it
 * starts the terminal (the picker, or the window this session sits at) when every script has run
 * (DOMContentLoaded). Each event from the stream is told to the other scripts first, as the DOM
 * event 'onestop:counter' ({kind: 'event', event, window}); presence and corrections follow it.
 */
(function () {
  'use strict';

  var O = window.Onestop;
  var boot = O.boot;

  /* A staff page speaks for the signed-in person, never for a kiosk or screen enrolled in the
   * same browser profile: no device bearer token on our requests or on the event stream. */
  O.deviceToken = function () { return null; };

  var OUTCOME_KEYS = { on_the_spot: 'outcome_on_the_spot', committed: 'outcome_committed', consultation: 'outcome_consultation' };

  var state = {
    me: boot.me,           // /auth/me: `window` is the window this session is signed in at
    claim: true,           // this terminal means to sit at me.window (heartbeats while true)
    choosing: false,       // a POST /auth/window is on its way
    lastDone: null,        // {number, action}: the last finish / no-show at this window we saw
    window: null,          // the window number we work at
    counters: [],          // GET /api/counters (names, services) for the picker and transfers
    myQueues: {},          // queue id → true, for the queues this window serves
    today: null,           // GET /api/counters/{n}/today
    waiting: [],           // GET /api/counters/{n}/waiting
    queues: [],            // GET /api/queues
    fetchedAt: 0,          // performance.now() when `today` arrived: timers tick from there
    generation: 0,         // bumped when the terminal changes window: older answers are dropped
    busy: false,
    loaded: false,
    connected: false
  };
  var stream = null;
  var refreshing = null;
  var refreshAgain = false;

  function $(id) { return document.getElementById(id); }
  function t(key, vars) { return O.t(key, vars); }

  /* Tell the page's other scripts (counter_day.js: lunch and the hall's day; presence and
   * corrections: the events) what changed: {kind: 'window', window}, {kind: 'today', today} or
   * {kind: 'event', event}. */
  function announce(detail) {
    try {
      document.dispatchEvent(new CustomEvent('onestop:counter', { detail: detail }));
    } catch (e) {
      if (window.console) console.error(e);
    }
  }

  /* ---- messages ---------------------------------------------------------------------------- */

  var noticeTimer = null;

  function showAlert(text) {
    $('alert-text').textContent = text;
    O.show($('alert'), true);
  }
  function clearAlert() { O.show($('alert'), false); }

  function showNotice(text) {
    var node = $('notice');
    node.textContent = text;
    O.show(node, true);
    if (noticeTimer) clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { O.show(node, false); }, 6000);
  }

  /* ---- formatting -------------------------------------------------------------------------- */

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  function fmtDuration(seconds) {
    if (seconds === null || seconds === undefined) return '–';
    seconds = Math.max(0, Math.floor(seconds));
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    return (h ? h + ':' + pad(m) : String(m)) + ':' + pad(s);
  }

  function elapsed() {
    return state.fetchedAt ? (performance.now() - state.fetchedAt) / 1000 : 0;
  }

  function counterName(number) {
    for (var i = 0; i < state.counters.length; i++) {
      if (state.counters[i].number === number) return state.counters[i].name;
    }
    return number + '号窗口';
  }

  /* ---- data -------------------------------------------------------------------------------- */

  function base() { return '/api/counters/' + state.window; }

  function computeMyQueues() {
    state.myQueues = {};
    var services = {};
    var mine = null;
    state.counters.forEach(function (c) { if (c.number === state.window) mine = c; });
    ((mine && mine.services) || []).forEach(function (s) { services[s] = true; });
    boot.queues.forEach(function (q) {
      if (q.services.some(function (s) { return services[s]; })) state.myQueues[q.id] = true;
    });
  }

  /* Re-read everything about this window; concurrent calls coalesce into one more round. */
  function refresh() {
    if (state.window === null) return Promise.resolve();
    if (refreshing) {
      refreshAgain = true;
      return refreshing;
    }
    var gen = state.generation;
    refreshing = Promise.all([
      O.api('GET', base() + '/today'),
      O.api('GET', base() + '/waiting'),
      O.api('GET', '/api/queues')
    ]).then(function (results) {
      if (gen !== state.generation) return;
      var clerk = results[0] && results[0].clerk;
      if (clerk && clerk.id !== state.me.username) {
        // Someone else sits here now (they took over while this terminal was silent).
        C.leaveWindow(t('taken_over', { window: results[0].name, name: clerk.name }));
        return;
      }
      state.today = results[0];
      state.waiting = results[1] || [];
      state.queues = results[2] || [];
      state.fetchedAt = performance.now();
      state.loaded = true;
      C.render();
      announce({ kind: 'today', today: state.today, window: state.window });
    }, function (err) {
      if (gen !== state.generation) return;
      handleError(err, null, false);
    }).finally(function () {
      refreshing = null;
      if (refreshAgain) {
        refreshAgain = false;
        refresh();
      }
    });
    return refreshing;
  }

  function ticket() { return state.today ? state.today.ticket : null; }

  /* ---- what is allowed now ----------------------------------------------------------------- */

  /* Nobody can act at an unstaffed window (the server answers not_staffed). */
  function isStaffed() { return !!state.today && state.today.state !== 'unstaffed'; }
  function isPaused() { return !!state.today && state.today.state === 'paused'; }
  function isFree() { return isStaffed() && !isPaused() && !ticket(); }
  function tState() { var tk = isStaffed() ? ticket() : null; return tk ? tk.state : null; }

  var RULES = {
    'btn-call': function () { return isFree(); },
    'btn-recall': function () { return tState() === 'called'; },
    'btn-start': function () { return tState() === 'called'; },
    'btn-noshow': function () { return tState() === 'called' && C.noShowLeft() === 0; },
    'btn-finish-spot': function () { return tState() === 'serving'; },
    'btn-finish-committed': function () { return tState() === 'serving'; },
    'btn-finish-consult': function () { return tState() === 'serving'; },
    'btn-transfer': function () { return tState() === 'called' || tState() === 'serving'; },
    'btn-pause': function () { return isFree(); },
    'btn-resume': function () { return isPaused(); }
  };

  function allowed(id) { return !state.busy && state.loaded && RULES[id](); }

  function updateButtons() {
    Object.keys(RULES).forEach(function (id) { $(id).disabled = !allowed(id); });
    O.show($('btn-pause'), !isPaused());
    O.show($('btn-resume'), isPaused());
    document.querySelectorAll('.c-call-this').forEach(function (b) { b.disabled = state.busy || !isFree(); });
    $('btn-undo').disabled = state.busy;
    $('btn-staff').disabled = state.busy || state.choosing;
  }

  /* ---- actions ----------------------------------------------------------------------------- */

  /* POST one window operation. `dialog`: the open dialog's error box for 422s (the dialog stays
   * open so the clerk can correct the input); everything else closes it and shows the alert. */
  function act(path, body, okKey, dialog) {
    if (state.busy || state.window === null) return Promise.resolve();
    state.busy = true;
    updateButtons();
    var gen = state.generation;
    return O.api('POST', base() + '/' + path, body).then(function (result) {
      if (gen !== state.generation) return;
      clearAlert();
      if (dialog) closeDialog(dialog.dialog);
      if ((path === 'finish' || path === 'no-show') && result && result.ticket) {
        state.lastDone = { number: result.ticket.number, action: path === 'finish' ? 'finish' : 'no_show' };
      }
      if (path === 'call-next' && result === null) {
        showNotice(t('nobody_waiting'));
      } else if (okKey) {
        showNotice(t(okKey, noticeVars(path, body, result)));
      }
    }, function (err) {
      if (gen !== state.generation) return;
      if (dialog && err.status === 422) {
        showDialogError(dialog.error, O.errorText(err));
        return;
      }
      if (dialog) closeDialog(dialog.dialog);
      handleError(err, path, true);
    }).finally(function () {
      state.busy = false;
      updateButtons();
      refresh();
    });
  }

  function noticeVars(path, body, result) {
    var tk = result && result.ticket;
    var vars = { number: tk ? tk.number : '' };
    if (path === 'finish') vars.outcome = t(OUTCOME_KEYS[body.outcome]);
    if (path === 'transfer') {
      vars.target = body.counter ? counterName(body.counter) : (tk ? tk.queue_name : '');
    }
    if (path === 'pause') vars.reason = body.reason;
    return vars;
  }

  function handleError(err, path, fromAction) {
    if (err.status === 401) {
      showAlert(t('signed_out'));
      setTimeout(function () { location.href = '/login?next=/counter'; }, 3000);
      return;
    }
    if (err.code === 'not_at_window') {
      C.leaveWindow(O.errorText(err));
      return;
    }
    if (err.status === 403) {
      // A re-read refused: this session has left the window (another tab); recheck says so.
      if (fromAction) showAlert(t('refused', { message: O.errorText(err) }));
      C.recheckWindow();
      return;
    }
    if (err.status === 409) {
      showAlert(t('conflict', { message: O.errorText(err) }));
      if (err.code === 'not_staffed') C.beat();  // our terminal was thought silent: sit down again
      return;
    }
    showAlert(fromAction && err.status && err.status < 500 ? t('refused', { message: O.errorText(err) })
                                                           : O.errorText(err));
  }

  function callNext() { if (allowed('btn-call')) act('call-next', undefined, 'called_ok'); }
  function recall() { if (allowed('btn-recall')) act('recall', undefined, 'recalled_ok'); }
  function start() { if (allowed('btn-start')) act('start', undefined, 'started_ok'); }
  function finishSpot() {
    if (allowed('btn-finish-spot')) act('finish', { outcome: 'on_the_spot' }, 'finished_ok');
  }
  function finishConsult() {
    if (allowed('btn-finish-consult')) act('finish', { outcome: 'consultation' }, 'finished_ok');
  }
  function resume() { if (allowed('btn-resume')) act('resume', undefined, 'resumed_ok'); }

  /* ---- dialogs ----------------------------------------------------------------------------- */

  function openDialog(dialog) {
    dialog.querySelectorAll('.c-dlg-error').forEach(function (n) { O.show(n, false); });
    if (typeof dialog.showModal === 'function') dialog.showModal();
    else dialog.setAttribute('open', '');
  }
  function closeDialog(dialog) {
    if (dialog.open) dialog.close();
  }
  function showDialogError(node, text) {
    node.textContent = text;
    O.show(node, true);
  }
  function dialogOpen() {
    return !!document.querySelector('dialog[open]');
  }

  /* ---- live updates ------------------------------------------------------------------------ */

  function relevant(event) {
    if (event.type === 'snapshot') return true;
    var d = event.data || {};
    var n = state.window;
    if (d.counter && d.counter.number === n) return true;
    if (d.transfer && (d.transfer.to_counter === n || d.transfer.from_counter === n)) return true;
    if (d.ticket && (d.ticket.counter === n || d.ticket.target_counter === n)) return true;
    if (d.queues) {
      for (var q in d.queues) {
        if (Object.prototype.hasOwnProperty.call(d.queues, q) && state.myQueues[q]) return true;
      }
    }
    return false;
  }

  /* The other scripts hear of the event first (presence keeps the list of windows and notices a
   * window left; corrections notes the last finish or no-show), then the window is re-read. */
  function onEvent(event) {
    announce({ kind: 'event', event: event, window: state.window });
    var d = event.data || {};
    if (state.window === null) {
      if (event.type === 'snapshot' || d.counter || d.ticket) C.refreshPicker();
    } else if (relevant(event)) {
      refresh();
    }
  }

  /* Connected = the socket is open. EventStream reports "connected" only with its first message,
   * and a reconnect with ?since= that missed nothing sends none, so the socket is watched too. */
  function setConnected(connected) {
    if (connected === state.connected) return;
    state.connected = connected;
    var node = $('conn');
    node.textContent = connected ? t('live') : t('reconnecting');
    node.dataset.ok = connected ? 'true' : 'false';
    if (connected) {  // after a reconnect: whatever happened meanwhile
      if (state.window === null) C.refreshPicker();
      else refresh();
    }
  }

  function onStatus(connected) { setConnected(connected); }

  function watchSocket() {
    var socket = stream && stream.socket;
    setConnected(!!socket && socket.readyState === WebSocket.OPEN);
  }

  function startStream() {
    if (stream) return;
    stream = new O.EventStream(onEvent, onStatus);
    stream.start();
    $('conn').textContent = t('reconnecting');
    O.show($('conn'), true);
  }

  /* ---- keyboard ---------------------------------------------------------------------------- */

  var KEYS = {
    F1: callNext, ' ': callNext, F2: recall, F3: start, F4: finishSpot,
    F6: function () { C.noShow(); }, F8: function () { C.openCommitted(); }, F9: finishConsult
  };

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === 'input' || tag === 'textarea' || tag === 'select' || target.isContentEditable;
  }

  document.addEventListener('keydown', function (event) {
    var handler = KEYS[event.key];
    if (!handler || event.ctrlKey || event.altKey || event.metaKey || event.repeat) return;
    if (state.window === null || dialogOpen() || typing(event.target)) return;
    event.preventDefault(); // F1 help, F3 find, F6 address bar, Space scroll/click
    handler();
  });

  /* ---- the namespace the other scripts use (see the top of this file) ---------------------- */

  var C = window.OnestopCounter = {
    state: state, boot: boot, $: $, t: t, announce: announce,
    showAlert: showAlert, clearAlert: clearAlert, showNotice: showNotice,
    pad: pad, fmtDuration: fmtDuration, elapsed: elapsed, counterName: counterName,
    computeMyQueues: computeMyQueues, refresh: refresh, ticket: ticket,
    isFree: isFree, tState: tState, allowed: allowed, updateButtons: updateButtons,
    act: act, handleError: handleError,
    openDialog: openDialog, closeDialog: closeDialog, showDialogError: showDialogError,
    dialogOpen: dialogOpen, startStream: startStream
  };

  /* ---- wiring (each other script wires its own buttons) ------------------------------------ */

  $('btn-call').addEventListener('click', callNext);
  $('btn-recall').addEventListener('click', recall);
  $('btn-start').addEventListener('click', start);
  $('btn-finish-spot').addEventListener('click', finishSpot);
  $('btn-finish-consult').addEventListener('click', finishConsult);
  $('btn-resume').addEventListener('click', resume);
  $('alert-close').addEventListener('click', clearAlert);
  document.querySelectorAll('dialog [data-close]').forEach(function (button) {
    button.addEventListener('click', function () { closeDialog(button.closest('dialog')); });
  });

  setInterval(watchSocket, 500);
  document.addEventListener('visibilitychange', function () {
    if (document.hidden) return;
    C.beat();
    if (stream) { stream.kick(); refresh(); }
  });

  /* Every script of the page has run: sit where this session sits, or choose a window. */
  function begin() {
    if (state.me.window === null || state.me.window === undefined) C.showPicker();
    else C.startTerminal(state.me.window);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', begin);
  else begin();
})();
