/* The counter terminal's corrections: 过号 only after a fair chance, asked for twice, and 撤销
 * of the window's last finish or no-show for a short while.
 *
 * 过号 sends a person away, so it is guarded: the button counts down until the ticket was called
 * `no_show_after_seconds` ago or recalled (F6 before that says how long is left), and then a
 * dialog asks first; its 确认过号 arms only a moment after opening and sits far from where the
 * 过号 button was, so the second tap of a double tap cannot answer it. 撤销 lasts `undo_seconds`
 * after a finish or no-show. Both count on the server's clock (its `now` and stamps, plus the
 * time since the page read them), never ahead of the server, which enforces the same limits.
 * Its own script because these rules are about time and fairness, not about the ordinary flow.
 *
 * Loaded after counter.js. Uses from window.OnestopCounter: state, boot, $, t, elapsed,
 * fmtDuration, ticket, tState, act, updateButtons, showAlert, openDialog, closeDialog. Adds:
 * noShowLeft (the 过号 button's rule), noShow (F6), tickNoShow and tickUndo (every second),
 * closeStaleNoShow (after each re-read). Follows the stream's events through the DOM event
 * 'onestop:counter' (kind 'event') to name the ticket the undo button would bring back.
 */
(function () {
  'use strict';

  var O = window.Onestop;
  var D = window.OnestopDay;
  var C = window.OnestopCounter;
  var state = C.state;
  var boot = C.boot;
  var $ = C.$;
  var t = C.t;

  /* A server ISO stamp (microseconds, +08:00) as epoch ms. */
  function parseAt(text) { return D && D.parseAt ? D.parseAt(text) : Date.parse(text); }

  /* ---- 过号 after a fair chance ------------------------------------------------------------
   * Seconds until the called ticket may be marked a no-show: it was called no_show_after_seconds
   * ago (the server's since_called_seconds, rounded down, plus the time since we read it, so we
   * never count ahead of the server) or recalled at least once. */
  function noShowLeft() {
    var tk = C.ticket();
    if (!tk || tk.state !== 'called' || tk.recall_count > 0) return 0;
    var since = state.today.since_called_seconds;
    if (since === null || since === undefined) return 0;
    return Math.max(0, Math.ceil((boot.no_show_after_seconds || 0) - since - C.elapsed()));
  }

  var noShowShown = null;

  function tickNoShow() {
    var left = C.tState() === 'called' ? noShowLeft() : 0;
    var label = left > 0 ? t('no_show_wait', { s: left }) : t('no_show_label');
    if ($('noshow-label').textContent !== label) $('noshow-label').textContent = label;
    var ready = left === 0;
    if (noShowShown !== null && noShowShown !== ready) C.updateButtons();
    noShowShown = ready;
  }

  /* F6 or the button: too early says how long is left; otherwise ask first (a dialog). */
  function noShow() {
    if (state.busy || !state.loaded || C.tState() !== 'called') return;
    var left = noShowLeft();
    if (left > 0) {
      C.showAlert(t('no_show_too_early', { number: C.ticket().number, wait: boot.no_show_after_seconds, left: left }));
      return;
    }
    openNoShow();
  }

  var noShowArm = null;

  function openNoShow() {
    var tk = C.ticket();
    var dialog = $('dlg-noshow');
    dialog.dataset.ticket = String(tk.id);
    $('noshow-question').textContent = t('noshow_question', { number: tk.number });
    var since = state.today.since_called_seconds;
    $('noshow-facts').textContent = t('noshow_facts', {
      since: C.fmtDuration(since === null ? null : since + C.elapsed()), recalls: tk.recall_count || 0 });
    $('noshow-hint').textContent = t('noshow_hint', { undo: boot.undo_seconds });
    // Armed a moment later: the second tap of a double tap can never be the confirmation.
    var ok = $('noshow-ok');
    ok.disabled = true;
    if (noShowArm) clearTimeout(noShowArm);
    noShowArm = setTimeout(function () { noShowArm = null; ok.disabled = false; }, 400);
    C.openDialog(dialog);
    $('noshow-cancel').focus();
  }

  function submitNoShow(event) {
    event.preventDefault();
    var dialog = $('dlg-noshow');
    var tk = C.ticket();
    if ($('noshow-ok').disabled || !tk || String(tk.id) !== dialog.dataset.ticket) {
      if (!tk || String(tk.id) !== dialog.dataset.ticket) C.closeDialog(dialog);
      return;
    }
    C.act('no-show', undefined, 'no_show_ok', { dialog: dialog, error: $('noshow-error') });
  }

  /* The ticket the dialog asks about is no longer called here (another tab, an event). */
  function closeStaleNoShow() {
    var dialog = $('dlg-noshow');
    if (!dialog.open) return;
    var tk = C.ticket();
    if (!tk || tk.state !== 'called' || String(tk.id) !== dialog.dataset.ticket) C.closeDialog(dialog);
  }

  /* ---- undo: the last finish or no-show, for undo_seconds on the server's clock ------------ */

  function undoLeft() {
    var today = state.today;
    if (!today || !today.undo || !today.undo.at || !today.now) return 0;
    if (today.state !== 'open' || today.ticket) return 0;
    var age = (parseAt(today.now) - parseAt(today.undo.at)) / 1000 + C.elapsed();
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

  function undo() {
    if (state.busy || undoLeft() <= 0) return;
    C.act('undo', undefined, 'undone_ok');
  }

  /* ---- wiring ------------------------------------------------------------------------------ */

  /* A finish or no-show at this window, by anyone: the number the undo button would bring back. */
  document.addEventListener('onestop:counter', function (e) {
    var detail = e.detail || {};
    if (detail.kind !== 'event') return;
    var event = detail.event;
    var d = event.data || {};
    if ((event.type === 'ticket.finished' || event.type === 'ticket.no_show') && d.ticket
        && d.counter && d.counter.number === state.window) {
      state.lastDone = { number: d.ticket.number, action: event.type === 'ticket.finished' ? 'finish' : 'no_show' };
    }
  });

  $('btn-noshow').addEventListener('click', noShow);
  $('form-noshow').addEventListener('submit', submitNoShow);
  $('btn-undo').addEventListener('click', undo);

  C.noShowLeft = noShowLeft;
  C.noShow = noShow;
  C.tickNoShow = tickNoShow;
  C.tickUndo = tickUndo;
  C.closeStaleNoShow = closeStaleNoShow;
})();
