/* The counter terminal's three forms: 办结·承诺件 (a promised date), 转办 (to a queue or another
 * window) and 暂停服务 (a reason).
 *
 * Each opens a <dialog>, checks what the clerk must fill in, and sends one action through
 * counter.js's act(), which keeps the dialog open to show a 422 beside the input and closes it
 * for anything else. Its own script because these are the only places the clerk types: the
 * inputs, their checks and their words belong together, apart from the one-key actions.
 *
 * Loaded after counter.js. Uses from window.OnestopCounter: state, boot, $, t, pad, ticket,
 * allowed, act, openDialog, showDialogError. Adds: openCommitted (F8).
 */
(function () {
  'use strict';

  var O = window.Onestop;
  var C = window.OnestopCounter;
  var state = C.state;
  var boot = C.boot;
  var $ = C.$;
  var t = C.t;

  /* ---- 办结 · 承诺件 ------------------------------------------------------------------------ */

  function isoDate(ms) {
    var d = new Date(ms);
    return d.getUTCFullYear() + '-' + C.pad(d.getUTCMonth() + 1) + '-' + C.pad(d.getUTCDate());
  }

  function openCommitted() {
    if (!C.allowed('btn-finish-committed')) return;
    var tk = C.ticket();
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
    C.openDialog(dialog);
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
      C.showDialogError($('committed-error'), t('need_date'));
      $('promised-date').focus();
      return;
    }
    var body = { outcome: 'committed', promised_date: date };
    var note = $('committed-note').value.trim();
    if (note) body.note = note;
    C.act('finish', body, 'finished_ok', { dialog: $('dlg-committed'), error: $('committed-error') });
  }

  /* ---- 转办 --------------------------------------------------------------------------------- */

  function fillSelect(select, options) {
    select.textContent = '';
    select.appendChild(O.el('option', { text: t('select_placeholder'), attrs: { value: '' } }));
    options.forEach(function (o) {
      select.appendChild(O.el('option', { text: o.label, attrs: { value: o.value } }));
    });
  }

  function openTransfer() {
    if (!C.allowed('btn-transfer')) return;
    var tk = C.ticket();
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
    C.openDialog($('dlg-transfer'));
    $('transfer-queue').focus();
  }

  function submitTransfer(event) {
    event.preventDefault();
    var kind = document.querySelector('input[name="transfer-kind"]:checked').value;
    var body = {};
    if (kind === 'queue') {
      if (!$('transfer-queue').value) { C.showDialogError($('transfer-error'), t('need_target')); return; }
      body.queue = $('transfer-queue').value;
    } else {
      if (!$('transfer-counter').value) { C.showDialogError($('transfer-error'), t('need_target')); return; }
      body.counter = parseInt($('transfer-counter').value, 10);
    }
    var note = $('transfer-note').value.trim();
    if (note) body.note = note;
    C.act('transfer', body, 'transferred_ok', { dialog: $('dlg-transfer'), error: $('transfer-error') });
  }

  /* ---- 暂停服务 ----------------------------------------------------------------------------- */

  function openPause() {
    if (!C.allowed('btn-pause')) return;
    O.show($('pause-other-box'), false);
    O.show($('pause-ok'), false);
    $('pause-other').value = '';
    C.openDialog($('dlg-pause'));
  }

  function pauseWith(reason) {
    reason = (reason || '').trim();
    if (!reason) {
      C.showDialogError($('pause-error'), t('need_reason'));
      return;
    }
    C.act('pause', { reason: reason }, 'paused_ok', { dialog: $('dlg-pause'), error: $('pause-error') });
  }

  /* ---- wiring ------------------------------------------------------------------------------ */

  $('btn-finish-committed').addEventListener('click', openCommitted);
  $('btn-transfer').addEventListener('click', openTransfer);
  $('btn-pause').addEventListener('click', openPause);
  $('form-committed').addEventListener('submit', submitCommitted);
  $('form-transfer').addEventListener('submit', submitTransfer);
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

  C.openCommitted = openCommitted;
})();
