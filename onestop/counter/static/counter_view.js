/* The counter terminal's drawing of its window: the header (window, its state, who is there), the
 * current ticket with its timers, the clerk's own count, the queues served here and the waiting
 * list with its 呼叫 buttons.
 *
 * It exists so that what the page shows can be read apart from what the page does: everything
 * here turns the state counter.js last read into the page (text only, through textContent and
 * Onestop.el) and changes nothing but the page.
 *
 * Loaded after counter.js. Uses from window.OnestopCounter: state, $, t, elapsed, fmtDuration,
 * ticket, isFree, act, updateButtons, and from counter_corrections.js tickNoShow, tickUndo,
 * closeStaleNoShow. Adds: render (after each re-read) and renderWho (also for the picker). Ticks
 * every second by itself: the timers, the 过号 countdown and the undo button.
 */
(function () {
  'use strict';

  var O = window.Onestop;
  var C = window.OnestopCounter;
  var state = C.state;
  var $ = C.$;
  var t = C.t;

  var PRIORITY_KEYS = { green: 'priority_green', appointment: 'priority_appointment', normal: 'priority_normal' };

  function fmtMinutes(seconds) {
    var m = Math.max(0, Math.floor(seconds / 60));
    return m < 60 ? m + ' 分' : Math.floor(m / 60) + ' 时 ' + (m % 60) + ' 分';
  }

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

    var tk = C.ticket();
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
    C.closeStaleNoShow();
    tick();

    $('served-today').textContent = String(today.served_today);
    renderMine();
    var n = state.waiting.length;
    $('waiting-count').textContent = t('persons', { n: n >= 200 ? '200+' : n });

    renderQueues();
    renderWaiting();
    C.updateButtons();
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
    C.tickNoShow();
    C.tickUndo();
    var today = state.today;
    var tk = C.ticket();
    if (!today || !tk) return;
    var dt = C.elapsed();
    $('t-waited').textContent = C.fmtDuration(today.waited_seconds);
    var calledBox = $('t-called-box');
    var servedBox = $('t-served-box');
    O.show(calledBox, tk.state === 'called');
    O.show(servedBox, tk.state === 'serving');
    if (tk.state === 'called' && today.since_called_seconds !== null) {
      $('t-called').textContent = C.fmtDuration(today.since_called_seconds + dt);
    }
    if (tk.state === 'serving' && today.served_seconds !== null) {
      $('t-served').textContent = C.fmtDuration(today.served_seconds + dt);
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
    var free = C.isFree();
    var now = state.today && state.today.now ? Date.parse(state.today.now) + C.elapsed() * 1000 : Date.now();
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
        C.act('call', { ticket: w.id }, 'called_ok');
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

  C.render = render;
  C.renderWho = renderWho;

  setInterval(tick, 1000);
})();
