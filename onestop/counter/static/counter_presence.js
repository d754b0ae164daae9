/* The counter terminal's presence: which window this session sits at, the window picker, sitting
 * down and leaving, and the heartbeat that keeps the window staffed.
 *
 * A window is staffed while its clerk is signed in at it and this terminal is heard from, so the
 * page sends a heartbeat (every 20 s, sooner when the hall's limit is short, and at once when the
 * tab is visible again). When the window was left on purpose (sign-out elsewhere, the clerk
 * moved), the terminal stops claiming it and offers "在本窗口上岗"; when someone else sits there
 * now (not_at_window), it says so and goes back to the window picker. It is its own script
 * because who sits where changes under the clerk's feet (other tabs, other clerks, a lost
 * network) and each of those cases wants one place to be read in.
 *
 * Loaded after counter.js and counter_view.js. Uses from window.OnestopCounter: state, boot, $,
 * t, announce, showAlert, clearAlert, showNotice, counterName, computeMyQueues, refresh,
 * updateButtons, handleError, closeDialog, dialogOpen, startStream, renderWho, and tickUndo (from
 * counter_corrections.js). Adds: beat, showPicker, startTerminal, leaveWindow, recheckWindow,
 * refreshPicker. Follows the stream's events through the DOM event 'onestop:counter' (kind
 * 'event'), which counter.js sends before it re-reads anything.
 */
(function () {
  'use strict';

  var O = window.Onestop;
  var C = window.OnestopCounter;
  var state = C.state;
  var boot = C.boot;
  var $ = C.$;
  var t = C.t;

  /* ---- window picker ----------------------------------------------------------------------- */

  function loadCounters() {
    return O.api('GET', '/api/counters').then(function (list) {
      state.counters = list || [];
    });
  }

  /* An event's window view: keep our list of windows (picker, transfer targets) up to date. */
  function noteCounter(view) {
    for (var i = 0; i < state.counters.length; i++) {
      var c = state.counters[i];
      if (c.number !== view.number) continue;
      ['state', 'staffed', 'clerk_name', 'pause_reason', 'current_ticket_id'].forEach(function (key) {
        if (view[key] !== undefined) c[key] = view[key];
      });
      if (!c.staffed) c.clerk_id = null;
    }
  }

  function choices() {
    if (state.me.any_window) return state.counters;
    return state.counters.filter(function (c) { return state.me.counters.indexOf(c.number) !== -1; });
  }

  function staffedByMe(c) { return !!c.staffed && c.clerk_id === state.me.username; }

  /* What a window choice says: who is there (or nobody), a pause, a ticket at it. */
  function choiceNote(c) {
    var parts = [];
    if (!c.staffed) parts.push(t('window_choice_state_free'));
    else if (staffedByMe(c)) parts.push(t('window_choice_state_mine'));
    else parts.push(t('window_choice_state_staffed', { name: c.clerk_name || '' }));
    if (c.state === 'paused') parts.push(t('window_choice_paused', { reason: c.pause_reason || '' }));
    if (c.ticket) parts.push(t('window_choice_state_busy') + ' ' + c.ticket.number);
    return parts.join(' · ');
  }

  function renderPicker() {
    var list = $('window-list');
    list.textContent = '';
    var options = choices();
    O.show($('picker-empty'), !options.length);
    $('picker-empty').textContent = options.length ? '' : t('no_window');
    options.forEach(function (c) {
      // Someone else sits there: not ours to take (the server would refuse anyway).
      var taken = !!c.staffed && !staffedByMe(c);
      var state_ = !c.staffed ? 'free' : (taken ? 'taken' : 'mine');
      var button = O.el('button', { className: 'btn c-window-choice', attrs: { type: 'button' },
                                    dataset: { counter: c.number, state: state_ } }, [
        O.el('span', { className: 'c-btn-main', text: c.name }),
        O.el('span', { className: 'c-choice-note', text: choiceNote(c) })
      ]);
      button.disabled = taken || state.choosing;
      button.addEventListener('click', function () { chooseWindow(c.number); });
      list.appendChild(button);
    });
  }

  var pickerLoading = null;
  var pickerAgain = false;

  /* Re-read the windows for the picker; concurrent calls coalesce into one more round. */
  function refreshPicker() {
    if (state.window !== null) return;
    if (pickerLoading) { pickerAgain = true; return; }
    pickerLoading = loadCounters().then(function () {
      if (state.window === null) renderPicker();
    }, function (err) { C.handleError(err, null, false); }).finally(function () {
      pickerLoading = null;
      if (pickerAgain) { pickerAgain = false; refreshPicker(); }
    });
  }

  function showPicker() {
    state.generation++;
    state.window = null;
    state.today = null;
    if (C.dialogOpen()) document.querySelectorAll('dialog[open]').forEach(C.closeDialog);
    O.show($('view-terminal'), false);
    O.show($('view-picker'), true);
    O.show($('switch-window'), false);
    O.show($('window-state'), false);
    $('window-name').textContent = '';
    C.renderWho();
    C.tickUndo();
    C.announce({ kind: 'window', window: null });
    refreshPicker();
    C.startStream();  // the picker follows who sits where, live
  }

  /* ---- sitting down and leaving ------------------------------------------------------------ */

  /* Someone else sits at our window now (not_at_window): stop claiming it, choose again. */
  function leaveWindow(message) {
    state.claim = false;
    showPicker();
    C.showAlert(message);
  }

  function setMe(me) {
    me.any_window = boot.me.any_window;
    state.me = me;
  }

  /* Sit down at a window (POST /auth/window); the server refuses when someone else is there. */
  function chooseWindow(number) {
    if (state.choosing) return;
    state.choosing = true;
    C.updateButtons();
    if (state.window === null) renderPicker();
    O.api('POST', '/auth/window', { counter: number }).then(function (me) {
      setMe(me);
      state.claim = true;
      C.clearAlert();
      if (state.window === number) {
        C.showNotice(t('staffed_ok', { window: C.counterName(number) }));
        C.refresh();
      } else {
        startTerminal(number);
      }
    }, function (err) {
      C.handleError(err, null, true);
      refreshPicker();
      C.refresh();
    }).finally(function () {
      state.choosing = false;
      C.updateButtons();
      if (state.window === null) renderPicker();
    });
  }

  function startTerminal(number) {
    state.generation++;
    state.window = number;
    state.today = null;
    state.loaded = false;
    state.lastDone = null;
    C.announce({ kind: 'window', window: number });
    O.show($('view-picker'), false);
    O.show($('view-terminal'), true);
    var ready = state.counters.length ? Promise.resolve() : loadCounters();
    ready.then(function () {
      $('window-name').textContent = C.counterName(number);
      O.show($('switch-window'), choices().length > 1);
      C.computeMyQueues();
      C.refresh();
    }, function (err) { C.handleError(err, null, false); });
    C.updateButtons();
    C.startStream();
    beat();
  }

  /* Another tab may have moved this browser's session to another window (or signed out). */
  function recheckWindow() {
    O.api('GET', '/auth/me').then(function (me) {
      if (!me || !me.authenticated) {
        location.href = '/login?next=/counter';
        return;
      }
      var was = state.window;
      setMe(me);
      if (me.window !== state.window) {
        if (me.window === null || me.window === undefined) {
          showPicker();
          if (was !== null) C.showAlert(t('window_left', { window: C.counterName(was) }));
        } else {
          startTerminal(me.window);
          C.showAlert(t('window_changed', { window: C.counterName(me.window) }));
        }
      }
    }, function () { /* the alert already says what went wrong */ });
  }

  /* ---- the heartbeat ----------------------------------------------------------------------- */

  // Three beats within the hall's limit (20 s for the default 60 s; never slower than 20 s).
  var BEAT_MS = Math.max(5, Math.min(20, Math.floor((boot.heartbeat_seconds || 60) / 3))) * 1000;
  var beating = false;

  function beat() {
    var n = state.me.window;
    if (n === null || n === undefined || !state.claim || state.choosing || beating) return;
    beating = true;
    O.api('POST', '/api/counters/' + n + '/heartbeat').then(function (result) {
      if (n !== state.me.window) return;
      if (result && result.changed) {  // sat down again after the terminal was thought silent
        if (state.window === n) C.refresh();
        else refreshPicker();
      }
    }, function (err) {
      if (n !== state.me.window || !state.claim) return;
      if (err.network || !err.status || err.status >= 500) return;  // the next beat retries
      if (err.code === 'not_at_window' || err.status === 401) {
        C.handleError(err, null, false);
      } else if (err.status === 403) {
        recheckWindow();
      } else {
        C.showAlert(t('presence_refused', { message: O.errorText(err) }));
      }
    }).finally(function () { beating = false; });
  }

  /* Our window was left. On purpose (signed out elsewhere, moved, replaced): stop claiming it,
   * say why, offer to sit down again. Because the terminal was thought silent: we are not, so
   * sit down again at once. */
  function onUnstaffed(data) {
    var n = data.counter && data.counter.number;
    if (n === null || n === undefined || n !== state.me.window || state.choosing) return;
    var why = data.unstaffed || {};
    if (why.reason === 'lost') {
      beat();
      return;
    }
    state.claim = false;
    C.showAlert(t('unstaffed_by', { window: C.counterName(n), message: O.pickMessage(why, 'server_error') }));
    recheckWindow();  // left from another tab of this browser: back to the picker
  }

  /* ---- wiring ------------------------------------------------------------------------------ */

  /* Each event, before counter.js re-reads: who sits where, and a window left. */
  document.addEventListener('onestop:counter', function (e) {
    var detail = e.detail || {};
    if (detail.kind !== 'event') return;
    var event = detail.event;
    var d = event.data || {};
    if (d.counter && typeof d.counter.number === 'number') noteCounter(d.counter);
    if (event.type === 'counter.unstaffed') onUnstaffed(d);
  });

  $('btn-staff').addEventListener('click', function () {
    if (state.window !== null && !state.busy) chooseWindow(state.window);
  });
  $('switch-window').addEventListener('click', showPicker);
  $('sign-out').addEventListener('click', function () {
    O.api('POST', '/auth/logout').then(function () {
      location.href = '/login?next=/counter';
    }, function (err) { C.handleError(err, null, true); });
  });

  setInterval(beat, BEAT_MS);

  C.beat = beat;
  C.showPicker = showPicker;
  C.startTerminal = startTerminal;
  C.leaveWindow = leaveWindow;
  C.recheckWindow = recheckWindow;
  C.refreshPicker = refreshPicker;
})();
