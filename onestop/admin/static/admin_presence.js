/* The admin page's 在岗 tab: who sits at which window now, who is at work today.
 *
 * One GET /api/presence draws both tables: every window with its state in words (服务中 /
 * 暂停：原因 / 暂无人员), the clerk there, when their terminal was last heard from and the ticket
 * at it; every configured clerk with today's attendance (a supervisor marks them absent or
 * present: POST /api/presence/{id}, after which the server re-plans lunch), their seat, their
 * break and their counts today. Today's lunch problem, if any, is a warning above both.
 *
 * Live: counter.*, roster.changed, lunch.changed, ticket.* and day.* events (announced by
 * admin.js as 'onestop:admin') re-read it, debounced; a hidden tab reads afresh when shown.
 * Loaded after admin_common.js, before admin.js. Text only.
 */
(function () {
  'use strict';

  var O = window.Onestop;
  var A = window.OnestopAdmin;
  var state = { data: null, visible: false, timer: null, busy: {} };

  function $(sel) { return document.querySelector(sel); }

  function hms(iso) { return typeof iso === 'string' && iso.length >= 19 ? iso.slice(11, 19) : '—'; }

  function td(text, cls) {
    return O.el('td', { text: text === null || text === undefined ? '' : text, className: cls || '' });
  }

  function windowName(n) {
    var list = (state.data && state.data.windows) || [];
    var w = list.find(function (x) { return x.number === n; });
    return w ? w.name : n + '号窗口';
  }

  function message(key, ok) {
    var box = $('#presence-result');
    box.textContent = key || '';
    box.className = ok ? 'alert inline ok' : 'alert inline';
    box.hidden = !key;
  }

  /* ---- windows ------------------------------------------------------------------------------ */

  function renderWindows(windows) {
    var body = $('#presence-windows tbody');
    body.replaceChildren.apply(body, windows.map(function (w) {
      var ticket = td('');
      if (w.ticket) ticket.appendChild(A.ticketLink(w.ticket));
      else ticket.textContent = '—';
      return O.el('tr', { dataset: { window: w.number, state: w.state } }, [
        O.el('th', { text: w.name }),
        td(A.windowState(w), 'state-' + w.state),
        td(w.clerk_name || '—'),
        td(w.state === 'unstaffed' ? '—' : hms(w.seen_at), 'muted'),
        ticket
      ]);
    }));
  }

  /* ---- the roster --------------------------------------------------------------------------- */

  function lunchText(c, lunch) {
    if (c.absent) return '—';
    if (c.break_started_at) return O.t('break_started', { time: hms(c.break_started_at).slice(0, 5) });
    var slot = lunch && lunch.breaks && lunch.slots ? lunch.slots[lunch.breaks[c.id]] : null;
    return slot ? O.t('break_planned', { slot: slot.label }) : O.t('break_none');
  }

  function attendance(c) {
    var badge = O.el('span', { className: c.absent ? 'badge off' : 'badge',
                               text: O.t(c.absent ? 'absent' : 'present') });
    var button = O.el('button', {
      className: 'small toggle', text: O.t(c.absent ? 'mark_present' : 'mark_absent'),
      attrs: { type: 'button', 'aria-pressed': String(!c.absent) }, dataset: { clerk: c.id }
    });
    button.disabled = !!state.busy[c.id];
    button.addEventListener('click', function () { mark(c, !c.absent); });
    var cell = O.el('td', { className: 'attendance' }, [badge, button]);
    if (c.marked_by) cell.appendChild(O.el('span', { className: 'hint small-text', text: O.t('marked_by', { name: c.marked_by }) }));
    return cell;
  }

  function counts(c) {
    var s = c.served_today || {};
    var cell = O.el('td', {}, [O.el('div', { text: O.t('served_counts', { served: s.served || 0, no_show: s.no_show || 0 }) })]);
    if (s.served) {
      cell.appendChild(O.el('div', { className: 'hint small-text', text: O.t('served_detail', {
        on_the_spot: s.on_the_spot || 0, committed: s.committed || 0, consultation: s.consultation || 0 }) }));
    }
    return cell;
  }

  function renderClerks(clerks, lunch) {
    var body = $('#presence-clerks tbody');
    body.replaceChildren.apply(body, clerks.map(function (c) {
      return O.el('tr', { className: c.absent ? 'absent' : '', dataset: { clerk: c.id, absent: String(c.absent) } }, [
        O.el('th', {}, [O.el('span', { text: c.name }), O.el('span', { className: 'hint small-text', text: ' ' + c.id })]),
        attendance(c),
        td(c.seat ? windowName(c.seat) : (c.absent ? '—' : O.t('not_signed_in')), c.seat ? 'state-open' : 'muted'),
        td(lunchText(c, lunch)),
        counts(c)
      ]);
    }));
  }

  function render() {
    var data = state.data;
    if (!data) return;
    renderWindows(data.windows || []);
    renderClerks(data.clerks || [], data.lunch || {});
    A.lunchProblem($('#presence-problem'), data.lunch && data.lunch.problem);
  }

  function load() {
    return O.api('GET', '/api/presence').then(function (data) {
      state.data = data;
      render();
    }, function (err) { message(O.errorText(err)); });
  }

  function mark(clerk, absent) {
    state.busy[clerk.id] = true;
    render();
    O.api('POST', '/api/presence/' + encodeURIComponent(clerk.id), { absent: absent }).then(function (data) {
      state.data = data;
      message(O.t(absent ? 'marked_absent_ok' : 'marked_present_ok', { name: clerk.name }), true);
    }, function (err) {
      message(O.errorText(err));
    }).finally(function () {
      delete state.busy[clerk.id];
      render();
    });
  }

  /* ---- wiring ------------------------------------------------------------------------------- */

  var tabButton = document.querySelector('#tabs button[data-tab="presence"]');
  document.querySelectorAll('#tabs button').forEach(function (button) {
    button.addEventListener('click', function () {
      state.visible = button === tabButton;
      if (state.visible) {
        message('');
        load();
      }
    });
  });

  var LIVE = /^(counter\.|ticket\.|day\.|roster\.changed$|lunch\.changed$)/;
  document.addEventListener('onestop:admin', function (e) {
    var event = (e.detail && e.detail.event) || {};
    if (typeof event.type !== 'string' || !LIVE.test(event.type)) return;
    if (!state.visible || state.timer) return;  // a hidden tab reads afresh when shown
    state.timer = setTimeout(function () {
      state.timer = null;
      if (state.visible) load();
    }, 400);
  });

  /* For tests and diagnostics. */
  window.OnestopAdminPresence = { state: state, load: load };
})();
