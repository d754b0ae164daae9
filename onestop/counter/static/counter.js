/* The clerk's counter terminal: call, recall, start, finish, no-show, transfer, pause, resume,
 * undo, and the clerk's presence at the window.
 *
 * The server is the only source of truth. Every action is one POST; after it (and after any event
 * about this window or its queues) the page re-reads the window. Two tabs or two clerks at one
 * window cannot corrupt anything: the server serialises, and a refused action (409) is shown in
 * plain words, followed by the fresh state. Data is only ever inserted with textContent.
 *
 * Presence: a window is staffed while its clerk is signed in at it and this terminal is heard
 * from, so the page sends a heartbeat (every 20 s, sooner when the hall's limit is short, and at
 * once when the tab is visible again). When the window was left on purpose (sign-out elsewhere,
 * the clerk moved), the terminal stops claiming it and offers "在本窗口上岗"; when someone else
 * sits there now (not_at_window), it says so and goes back to the window picker.
 *
 * Time-limited steps count on the server's clock: 过号 waits until the ticket was called
 * `no_show_after_seconds` ago or recalled, and 撤销 lasts `undo_seconds` after a finish or no-show.
 */
(function () {
  'use strict';

  var O = window.Onestop;
  var D = window.OnestopDay;
  var boot = O.boot;

  /* A staff page speaks for the signed-in person, never for a kiosk or screen enrolled in the
   * same browser profile: no device bearer token on our requests or on the event stream. */
  O.deviceToken = function () { return null; };

  var PRIORITY_KEYS = { green: 'priority_green', appointment: 'priority_appointment', normal: 'priority_normal' };
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
    busy: false,
    loaded: false,
    connected: false
  };
  var stream = null;
  var refreshing = null;
  var refreshAgain = false;
  var generation = 0;

  function $(id) { return document.getElementById(id); }
  function t(key, vars) { return O.t(key, vars); }

  /* Tell the page's other scripts (counter_day.js: lunch and the hall's day) what changed:
   * {kind: 'window', window}, {kind: 'today', today} or {kind: 'event', event}. */
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

  function fmtMinutes(seconds) {
    var m = Math.max(0, Math.floor(seconds / 60));
    return m < 60 ? m + ' 分' : Math.floor(m / 60) + ' 时 ' + (m % 60) + ' 分';
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

  function serviceName(id) {
    var s = boot.services[id];
    return s ? s.name : id;
  }

  /* A server ISO stamp (microseconds, +08:00) as epoch ms. */
  function parseAt(text) { return D && D.parseAt ? D.parseAt(text) : Date.parse(text); }

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
    var gen = generation;
    refreshing = Promise.all([
      O.api('GET', base() + '/today'),
      O.api('GET', base() + '/waiting'),
      O.api('GET', '/api/queues')
    ]).then(function (results) {
      if (gen !== generation) return;
      var clerk = results[0] && results[0].clerk;
      if (clerk && clerk.id !== state.me.username) {
        // Someone else sits here now (they took over while this terminal was silent).
        leaveWindow(t('taken_over', { window: results[0].name, name: clerk.name }));
        return;
      }
      state.today = results[0];
      state.waiting = results[1] || [];
      state.queues = results[2] || [];
      state.fetchedAt = performance.now();
      state.loaded = true;
      render();
      announce({ kind: 'today', today: state.today, window: state.window });
    }, function (err) {
      if (gen !== generation) return;
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

  /* ---- rendering --------------------------------------------------------------------------- */

  function ticket() { return state.today ? state.today.ticket : null; }

  function windowStateText(today) {
    if (today.state === 'paused') return t('counter_paused', { reason: today.pause_reason || '' });
    if (today.state === 'unstaffed') return t('counter_unstaffed');
    return t('counter_open');
  }

  /* Who is at the window: the clerk there, or (nobody there) the person signed in here. */
  function renderWho() {
    var clerk = state.today && state.window !== null ? state.today.clerk : null;
    $('clerk-label').textContent = clerk ? t('clerk_on_duty') : t('clerk_signed_in');
    $('clerk-name').textContent = clerk ? clerk.name : state.me.name;
  }

  function render() {
    var today = state.today;
    if (!today) return;
    $('window-name').textContent = today.name;
    var paused = today.state === 'paused';
    var unstaffed = today.state === 'unstaffed';
    var ws = $('window-state');
    ws.textContent = windowStateText(today);
    ws.dataset.state = today.state;
    O.show(ws, true);
    renderWho();

    var tk = ticket();
    var current = $('current');
    current.dataset.state = unstaffed ? 'unstaffed' : (paused ? 'paused' : (tk ? tk.state : 'idle'));
    O.show($('cur-ticket'), !!tk);
    O.show($('cur-empty'), !tk);
    O.show($('unstaffed-box'), unstaffed);
    if (tk) {
      $('cur-number').textContent = tk.number;
      var st = $('cur-state');
      st.textContent = t('state_' + tk.state);
      st.dataset.state = tk.state;
      var pr = $('cur-priority');
      pr.textContent = t(PRIORITY_KEYS[tk.priority] || 'priority_normal');
      pr.dataset.priority = tk.priority;
      var extra = [];
      if (tk.transfer_count) extra.push(t('transfers', { n: tk.transfer_count }));
      if (tk.recall_count) extra.push(t('recalls', { n: tk.recall_count }));
      $('cur-extra').textContent = extra.join(' · ');
      O.show($('cur-extra'), extra.length > 0);
      $('cur-service').textContent = tk.service_name + (tk.queue_name ? '（' + tk.queue_name + '）' : '');
    } else {
      $('cur-empty').textContent = unstaffed ? t('unstaffed_here')
        : (paused ? t('paused', { reason: today.pause_reason || '' }) : t('idle'));
    }
    closeStaleNoShow();
    tick();

    $('served-today').textContent = String(today.served_today);
    renderMine();
    var n = state.waiting.length;
    $('waiting-count').textContent = t('persons', { n: n >= 200 ? '200+' : n });

    renderQueues();
    renderWaiting();
    updateButtons();
  }

  /* The signed-in clerk's own count today, while it is they who sit here (the row stays, so
   * nothing below it moves). */
  function renderMine() {
    var clerk = state.today && state.today.clerk;
    var mine = !!clerk && clerk.id === state.me.username && !!clerk.served;
    $('mine-text').textContent = mine ? t('mine_counts', clerk.served) : t('mine_none');
  }

  /* Every second: the timers, the 过号 countdown and the undo button's seconds. */
  function tick() {
    tickNoShow();
    tickUndo();
    var today = state.today;
    var tk = ticket();
    if (!today || !tk) return;
    var dt = elapsed();
    $('t-waited').textContent = fmtDuration(today.waited_seconds);
    var calledBox = $('t-called-box');
    var servedBox = $('t-served-box');
    O.show(calledBox, tk.state === 'called');
    O.show(servedBox, tk.state === 'serving');
    if (tk.state === 'called' && today.since_called_seconds !== null) {
      $('t-called').textContent = fmtDuration(today.since_called_seconds + dt);
    }
    if (tk.state === 'serving' && today.served_seconds !== null) {
      $('t-served').textContent = fmtDuration(today.served_seconds + dt);
    }
  }

  function renderQueues() {
    var list = $('queue-list');
    list.textContent = '';
    state.queues.forEach(function (q) {
      if (!state.myQueues[q.id]) return;
      list.appendChild(O.el('li', { dataset: { queue: q.id } }, [
        O.el('span', { className: 'c-q-prefix', text: q.prefix }),
        O.el('span', { className: 'c-q-name', text: q.name }),
        O.el('span', { className: 'c-q-count', text: t('persons', { n: q.waiting }) })
      ]));
    });
  }

  function renderWaiting() {
    var list = $('waiting-list');
    list.textContent = '';
    var free = isFree();
    var now = state.today && state.today.now ? Date.parse(state.today.now) + elapsed() * 1000 : Date.now();
    var shown = state.waiting.slice(0, 50);
    if (!shown.length) {
      list.appendChild(O.el('li', { className: 'c-empty', text: t('none_waiting') }));
    }
    shown.forEach(function (w) {
      var badges = [];
      if (w.priority !== 'normal') {
        badges.push(O.el('span', { className: 'c-badge c-prio', text: t(PRIORITY_KEYS[w.priority]), dataset: { priority: w.priority } }));
      }
      if (w.target_counter === state.window) {
        badges.push(O.el('span', { className: 'c-badge c-extra', text: t('transferred_here') }));
      }
      var waited = w.issued_at ? (now - Date.parse(w.issued_at)) / 1000 : null;
      var button = O.el('button', { className: 'btn c-call-this', text: t('call_this'),
                                    attrs: { type: 'button', 'aria-label': t('call_this') + ' ' + w.number } });
      button.disabled = !free || state.busy;
      button.addEventListener('click', function () {
        act('call', { ticket: w.id }, 'called_ok');
      });
      list.appendChild(O.el('li', { dataset: { id: w.id, number: w.number } }, [
        O.el('span', { className: 'c-w-number', text: w.number }),
        O.el('span', { className: 'c-w-main' }, [
          O.el('span', { className: 'c-w-service', text: w.service_name }),
          O.el('span', { className: 'c-w-meta' }, [
            O.el('span', { text: waited === null ? '' : t('waited_since_issue', { t: fmtMinutes(waited) }) })
          ].concat(badges))
        ]),
        button
      ]));
    });
    var more = state.waiting.length - shown.length;
    $('waiting-more').textContent = more > 0 ? t('more_waiting', { n: more }) : '';
    O.show($('waiting-more'), more > 0);
  }

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
    'btn-noshow': function () { return tState() === 'called' && noShowLeft() === 0; },
    'btn-finish-spot': function () { return tState() === 'serving'; },
    'btn-finish-committed': function () { return tState() === 'serving'; },
    'btn-finish-consult': function () { return tState() === 'serving'; },
    'btn-transfer': function () { return tState() === 'called' || tState() === 'serving'; },
    'btn-pause': function () { return isFree(); },
    'btn-resume': function () { return isPaused(); }
  };

  /* ---- 过号 after a fair chance ------------------------------------------------------------
   * Seconds until the called ticket may be marked a no-show: it was called no_show_after_seconds
   * ago (the server's since_called_seconds, rounded down, plus the time since we read it, so we
   * never count ahead of the server) or recalled at least once. */
  function noShowLeft() {
    var tk = ticket();
    if (!tk || tk.state !== 'called' || tk.recall_count > 0) return 0;
    var since = state.today.since_called_seconds;
    if (since === null || since === undefined) return 0;
    return Math.max(0, Math.ceil((boot.no_show_after_seconds || 0) - since - elapsed()));
  }

  var noShowShown = null;

  function tickNoShow() {
    var left = tState() === 'called' ? noShowLeft() : 0;
    var label = left > 0 ? t('no_show_wait', { s: left }) : t('no_show_label');
    if ($('noshow-label').textContent !== label) $('noshow-label').textContent = label;
    var ready = left === 0;
    if (noShowShown !== null && noShowShown !== ready) updateButtons();
    noShowShown = ready;
  }

  /* ---- undo: the last finish or no-show, for undo_seconds on the server's clock ------------ */
  function undoLeft() {
    var today = state.today;
    if (!today || !today.undo || !today.undo.at || !today.now) return 0;
    if (today.state !== 'open' || today.ticket) return 0;
    var age = (parseAt(today.now) - parseAt(today.undo.at)) / 1000 + elapsed();
    if (isNaN(age)) return 0;
    return Math.max(0, Math.floor((boot.undo_seconds || 0) - age));
  }

  function tickUndo() {
    var button = $('btn-undo');
    var left = state.window === null ? 0 : undoLeft();
    if (left <= 0) {
      O.show(button, false);
      return;
    }
    var action = state.today.undo.action;
    var done = state.lastDone && state.lastDone.action === action ? state.lastDone.number : '';
    var label = t(action === 'no_show' ? 'undo_no_show' : 'undo_finish',
                  { number: done ? ' ' + done : '', s: left });
    if (button.textContent !== label) button.textContent = label;
    button.disabled = state.busy;
    O.show(button, true);
  }

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
    var gen = generation;
    return O.api('POST', base() + '/' + path, body).then(function (result) {
      if (gen !== generation) return;
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
      if (gen !== generation) return;
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
      leaveWindow(O.errorText(err));
      return;
    }
    if (err.status === 403) {
      // A re-read refused: this session has left the window (another tab); recheck says so.
      if (fromAction) showAlert(t('refused', { message: O.errorText(err) }));
      recheckWindow();
      return;
    }
    if (err.status === 409) {
      showAlert(t('conflict', { message: O.errorText(err) }));
      if (err.code === 'not_staffed') beat();  // our terminal was thought silent: sit down again
      return;
    }
    showAlert(fromAction && err.status && err.status < 500 ? t('refused', { message: O.errorText(err) })
                                                           : O.errorText(err));
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
          if (was !== null) showAlert(t('window_left', { window: counterName(was) }));
        } else {
          startTerminal(me.window);
          showAlert(t('window_changed', { window: counterName(me.window) }));
        }
      }
    }, function () { /* the alert already says what went wrong */ });
  }

  function callNext() { if (allowed('btn-call')) act('call-next', undefined, 'called_ok'); }
  function recall() { if (allowed('btn-recall')) act('recall', undefined, 'recalled_ok'); }
  function start() { if (allowed('btn-start')) act('start', undefined, 'started_ok'); }
  /* F6 or the button: too early says how long is left; otherwise ask first (a dialog). */
  function noShow() {
    if (state.busy || !state.loaded || tState() !== 'called') return;
    var left = noShowLeft();
    if (left > 0) {
      showAlert(t('no_show_too_early', { number: ticket().number, wait: boot.no_show_after_seconds, left: left }));
      return;
    }
    openNoShow();
  }
  function undo() {
    if (state.busy || undoLeft() <= 0) return;
    act('undo', undefined, 'undone_ok');
  }
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

  function isoDate(ms) {
    var d = new Date(ms);
    return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate());
  }

  function openCommitted() {
    if (!allowed('btn-finish-committed')) return;
    var tk = ticket();
    var dialog = $('dlg-committed');
    $('committed-ticket').textContent = tk.number + ' · ' + tk.service_name;
    // The hall's date (the server's "now" is hall-local ISO), not the PC's.
    var today = state.today.now ? state.today.now.slice(0, 10) : isoDate(Date.now());
    var todayMs = Date.parse(today + 'T00:00:00Z');
    var input = $('promised-date');
    input.min = today;
    input.max = isoDate(todayMs + 366 * 86400000);
    input.value = '';
    showPromised();
    $('committed-note').value = '';
    var svc = boot.services[tk.service];
    $('committed-hint').textContent = svc
      ? (svc.committed_days ? t('committed_limit', { n: svc.committed_days }) : t('committed_now'))
      : '';
    openDialog(dialog);
    input.focus();
  }

  /* The chosen date spelled out (2026年12月1日 星期二): the picker's own format follows the PC. */
  function showPromised() {
    var value = $('promised-date').value;
    var text = '';
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
      try {
        text = new Intl.DateTimeFormat('zh-CN', { year: 'numeric', month: 'long', day: 'numeric',
                                                  weekday: 'long', timeZone: 'UTC' })
          .format(new Date(value + 'T00:00:00Z'));
      } catch (e) { text = value; }
    }
    $('promised-text').textContent = text;
  }

  function submitCommitted(event) {
    event.preventDefault();
    var date = $('promised-date').value;
    if (!date) {
      showDialogError($('committed-error'), t('need_date'));
      $('promised-date').focus();
      return;
    }
    var body = { outcome: 'committed', promised_date: date };
    var note = $('committed-note').value.trim();
    if (note) body.note = note;
    act('finish', body, 'finished_ok', { dialog: $('dlg-committed'), error: $('committed-error') });
  }

  var noShowArm = null;

  function openNoShow() {
    var tk = ticket();
    var dialog = $('dlg-noshow');
    dialog.dataset.ticket = String(tk.id);
    $('noshow-question').textContent = t('noshow_question', { number: tk.number });
    var since = state.today.since_called_seconds;
    $('noshow-facts').textContent = t('noshow_facts', {
      since: fmtDuration(since === null ? null : since + elapsed()), recalls: tk.recall_count || 0 });
    $('noshow-hint').textContent = t('noshow_hint', { undo: boot.undo_seconds });
    // Armed a moment later: the second tap of a double tap can never be the confirmation.
    var ok = $('noshow-ok');
    ok.disabled = true;
    if (noShowArm) clearTimeout(noShowArm);
    noShowArm = setTimeout(function () { noShowArm = null; ok.disabled = false; }, 400);
    openDialog(dialog);
    $('noshow-cancel').focus();
  }

  function submitNoShow(event) {
    event.preventDefault();
    var dialog = $('dlg-noshow');
    var tk = ticket();
    if ($('noshow-ok').disabled || !tk || String(tk.id) !== dialog.dataset.ticket) {
      if (!tk || String(tk.id) !== dialog.dataset.ticket) closeDialog(dialog);
      return;
    }
    act('no-show', undefined, 'no_show_ok', { dialog: dialog, error: $('noshow-error') });
  }

  /* The ticket the dialog asks about is no longer called here (another tab, an event). */
  function closeStaleNoShow() {
    var dialog = $('dlg-noshow');
    if (!dialog.open) return;
    var tk = ticket();
    if (!tk || tk.state !== 'called' || String(tk.id) !== dialog.dataset.ticket) closeDialog(dialog);
  }

  function fillSelect(select, options) {
    select.textContent = '';
    select.appendChild(O.el('option', { text: t('select_placeholder'), attrs: { value: '' } }));
    options.forEach(function (o) {
      select.appendChild(O.el('option', { text: o.label, attrs: { value: o.value } }));
    });
  }

  function openTransfer() {
    if (!allowed('btn-transfer')) return;
    var tk = ticket();
    $('transfer-ticket').textContent = tk.number + ' · ' + tk.service_name;
    fillSelect($('transfer-queue'), boot.queues.map(function (q) {
      return { value: q.id, label: t('queue_option', { prefix: q.prefix, name: q.name }) };
    }));
    fillSelect($('transfer-counter'), state.counters.filter(function (c) {
      return c.number !== state.window;
    }).map(function (c) {
      var note = c.state === 'unstaffed' ? t('transfer_unstaffed')
        : (c.state === 'paused' ? '（' + t('window_choice_state_paused') + '）' : '');
      return { value: c.number, label: c.name + note };
    }));
    document.querySelector('input[name="transfer-kind"][value="queue"]').checked = true;
    $('transfer-note').value = '';
    openDialog($('dlg-transfer'));
    $('transfer-queue').focus();
  }

  function submitTransfer(event) {
    event.preventDefault();
    var kind = document.querySelector('input[name="transfer-kind"]:checked').value;
    var body = {};
    if (kind === 'queue') {
      if (!$('transfer-queue').value) { showDialogError($('transfer-error'), t('need_target')); return; }
      body.queue = $('transfer-queue').value;
    } else {
      if (!$('transfer-counter').value) { showDialogError($('transfer-error'), t('need_target')); return; }
      body.counter = parseInt($('transfer-counter').value, 10);
    }
    var note = $('transfer-note').value.trim();
    if (note) body.note = note;
    act('transfer', body, 'transferred_ok', { dialog: $('dlg-transfer'), error: $('transfer-error') });
  }

  function openPause() {
    if (!allowed('btn-pause')) return;
    O.show($('pause-other-box'), false);
    O.show($('pause-ok'), false);
    $('pause-other').value = '';
    openDialog($('dlg-pause'));
  }

  function pauseWith(reason) {
    reason = (reason || '').trim();
    if (!reason) {
      showDialogError($('pause-error'), t('need_reason'));
      return;
    }
    act('pause', { reason: reason }, 'paused_ok', { dialog: $('dlg-pause'), error: $('pause-error') });
  }

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
    }, function (err) { handleError(err, null, false); }).finally(function () {
      pickerLoading = null;
      if (pickerAgain) { pickerAgain = false; refreshPicker(); }
    });
  }

  function showPicker() {
    generation++;
    state.window = null;
    state.today = null;
    if (dialogOpen()) document.querySelectorAll('dialog[open]').forEach(closeDialog);
    O.show($('view-terminal'), false);
    O.show($('view-picker'), true);
    O.show($('switch-window'), false);
    O.show($('window-state'), false);
    $('window-name').textContent = '';
    renderWho();
    tickUndo();
    announce({ kind: 'window', window: null });
    refreshPicker();
    startStream();  // the picker follows who sits where, live
  }

  /* Someone else sits at our window now (not_at_window): stop claiming it, choose again. */
  function leaveWindow(message) {
    state.claim = false;
    showPicker();
    showAlert(message);
  }

  function setMe(me) {
    me.any_window = boot.me.any_window;
    state.me = me;
  }

  /* Sit down at a window (POST /auth/window); the server refuses when someone else is there. */
  function chooseWindow(number) {
    if (state.choosing) return;
    state.choosing = true;
    updateButtons();
    if (state.window === null) renderPicker();
    O.api('POST', '/auth/window', { counter: number }).then(function (me) {
      setMe(me);
      state.claim = true;
      clearAlert();
      if (state.window === number) {
        showNotice(t('staffed_ok', { window: counterName(number) }));
        refresh();
      } else {
        startTerminal(number);
      }
    }, function (err) {
      handleError(err, null, true);
      refreshPicker();
      refresh();
    }).finally(function () {
      state.choosing = false;
      updateButtons();
      if (state.window === null) renderPicker();
    });
  }

  function startTerminal(number) {
    generation++;
    state.window = number;
    state.today = null;
    state.loaded = false;
    state.lastDone = null;
    announce({ kind: 'window', window: number });
    O.show($('view-picker'), false);
    O.show($('view-terminal'), true);
    var ready = state.counters.length ? Promise.resolve() : loadCounters();
    ready.then(function () {
      $('window-name').textContent = counterName(number);
      O.show($('switch-window'), choices().length > 1);
      computeMyQueues();
      refresh();
    }, function (err) { handleError(err, null, false); });
    updateButtons();
    startStream();
    beat();
  }

  /* ---- presence: the heartbeat ----------------------------------------------------------- */

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
        if (state.window === n) refresh();
        else refreshPicker();
      }
    }, function (err) {
      if (n !== state.me.window || !state.claim) return;
      if (err.network || !err.status || err.status >= 500) return;  // the next beat retries
      if (err.code === 'not_at_window' || err.status === 401) {
        handleError(err, null, false);
      } else if (err.status === 403) {
        recheckWindow();
      } else {
        showAlert(t('presence_refused', { message: O.errorText(err) }));
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
    showAlert(t('unstaffed_by', { window: counterName(n), message: O.pickMessage(why, 'server_error') }));
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

  function onEvent(event) {
    announce({ kind: 'event', event: event, window: state.window });
    var d = event.data || {};
    if (d.counter && typeof d.counter.number === 'number') noteCounter(d.counter);
    if (event.type === 'counter.unstaffed') onUnstaffed(d);
    if ((event.type === 'ticket.finished' || event.type === 'ticket.no_show') && d.ticket
        && d.counter && d.counter.number === state.window) {
      state.lastDone = { number: d.ticket.number, action: event.type === 'ticket.finished' ? 'finish' : 'no_show' };
    }
    if (state.window === null) {
      if (event.type === 'snapshot' || d.counter || d.ticket) refreshPicker();
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
      if (state.window === null) refreshPicker();
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
    F1: callNext, ' ': callNext, F2: recall, F3: start, F4: finishSpot, F6: noShow,
    F8: openCommitted, F9: finishConsult
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

  /* ---- wiring ------------------------------------------------------------------------------ */

  $('btn-call').addEventListener('click', callNext);
  $('btn-recall').addEventListener('click', recall);
  $('btn-start').addEventListener('click', start);
  $('btn-noshow').addEventListener('click', noShow);
  $('btn-finish-spot').addEventListener('click', finishSpot);
  $('btn-finish-committed').addEventListener('click', openCommitted);
  $('btn-finish-consult').addEventListener('click', finishConsult);
  $('btn-transfer').addEventListener('click', openTransfer);
  $('btn-pause').addEventListener('click', openPause);
  $('btn-resume').addEventListener('click', resume);
  $('alert-close').addEventListener('click', clearAlert);
  $('form-committed').addEventListener('submit', submitCommitted);
  $('form-transfer').addEventListener('submit', submitTransfer);
  $('form-noshow').addEventListener('submit', submitNoShow);
  $('btn-undo').addEventListener('click', undo);
  $('btn-staff').addEventListener('click', function () {
    if (state.window !== null && !state.busy) chooseWindow(state.window);
  });
  $('promised-date').addEventListener('input', showPromised);
  $('promised-date').addEventListener('change', showPromised);
  $('form-pause').addEventListener('submit', function (event) {
    event.preventDefault();
    pauseWith($('pause-other').value);
  });
  $('transfer-queue').addEventListener('change', function () {
    document.querySelector('input[name="transfer-kind"][value="queue"]').checked = true;
  });
  $('transfer-counter').addEventListener('change', function () {
    document.querySelector('input[name="transfer-kind"][value="counter"]').checked = true;
  });
  document.querySelectorAll('#pause-reasons .c-reason').forEach(function (button) {
    button.addEventListener('click', function () {
      var reason = button.getAttribute('data-reason');
      if (reason) {
        pauseWith(reason);
      } else {
        O.show($('pause-other-box'), true);
        O.show($('pause-ok'), true);
        $('pause-other').focus();
      }
    });
  });
  document.querySelectorAll('dialog [data-close]').forEach(function (button) {
    button.addEventListener('click', function () { closeDialog(button.closest('dialog')); });
  });
  $('switch-window').addEventListener('click', showPicker);
  $('sign-out').addEventListener('click', function () {
    O.api('POST', '/auth/logout').then(function () {
      location.href = '/login?next=/counter';
    }, function (err) { handleError(err, null, true); });
  });

  setInterval(tick, 1000);
  setInterval(watchSocket, 500);
  setInterval(beat, BEAT_MS);
  document.addEventListener('visibilitychange', function () {
    if (document.hidden) return;
    beat();
    if (stream) { stream.kick(); refresh(); }
  });

  if (state.me.window === null || state.me.window === undefined) showPicker();
  else startTerminal(state.me.window);
})();
