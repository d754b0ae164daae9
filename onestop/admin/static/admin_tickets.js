/* The admin page's 号票 tab: 号票查询与更正 (the shared lookup, with 过号顺延, cancel and
 * re-route) and 日终清理 (close the day's leftover tickets with a reason, after a confirmation
 * that says how many).
 *
 * Every ticket number on the page links to #ticket=<number>; following one opens this tab on
 * that ticket's history (also after a reload, or from a bookmark). Text only.
 */
(function () {
  'use strict';

  var O = window.Onestop;
  var lookup = window.OnestopTicketLookup.mount(document.getElementById('lookup'),
                                                { actions: ['requeue', 'cancel', 'reroute'] });
  var tabButton = document.querySelector('#tabs button[data-tab="tickets"]');

  function $(sel) { return document.querySelector(sel); }

  /* ---- links to a ticket -------------------------------------------------------------------- */

  function numberIn(hash) {
    var m = /^#ticket=([A-Za-z]\d{1,6})$/.exec(hash || '');
    return m ? m[1].toUpperCase() : null;
  }

  function open(number) {
    if ($('#tab-tickets').hidden) tabButton.click();
    lookup.find(number);
    window.scrollTo(0, 0);
  }

  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a.ticket-link');
    if (!link) return;
    event.preventDefault();
    var number = link.dataset.ticket;
    if (location.hash !== '#ticket=' + number) history.pushState(null, '', '#ticket=' + number);
    open(number);
  });
  window.addEventListener('hashchange', function () {
    var number = numberIn(location.hash);
    if (number) open(number);
  });

  /* ---- 日终清理 ------------------------------------------------------------------------------ */

  var form = $('#leftovers-form');
  var pending = null; // the reason the confirmation is asking about

  function result(text, ok) {
    var box = $('#leftovers-result');
    box.textContent = text || '';
    box.className = ok ? 'alert inline ok' : 'alert inline';
    box.hidden = !text;
  }

  function ask(show) {
    $('#leftovers-confirm').hidden = !show;
    $('#leftovers-check').disabled = show;
    if (!show) pending = null;
  }

  /* Tickets still waiting, and those called at a window nobody sits at: what the server closes. */
  function leftovers() {
    return Promise.all([O.api('GET', '/api/queues'), O.api('GET', '/api/counters')]).then(function (r) {
      var waiting = (r[0] || []).reduce(function (n, q) { return n + (q.waiting || 0); }, 0);
      var stranded = (r[1] || []).filter(function (c) {
        return c.state === 'unstaffed' && c.ticket && c.ticket.state === 'called';
      }).length;
      return waiting + stranded;
    });
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var reason = form.elements.reason.value.trim();
    result('');
    if (!reason) {
      result(O.t('need_reason'));
      form.elements.reason.focus();
      return;
    }
    $('#leftovers-check').disabled = true;
    leftovers().then(function (n) {
      if (!n) {
        ask(false);
        result(O.t('leftovers_none'), true);
        return;
      }
      pending = reason;
      $('#leftovers-question').textContent = O.t('leftovers_question', { n: n, reason: reason });
      $('#leftovers-yes').textContent = O.t('leftovers_yes', { n: n });
      ask(true);
      $('#leftovers-no').focus();
    }, function (err) {
      ask(false);
      result(O.errorText(err));
    });
  });

  $('#leftovers-no').addEventListener('click', function () { ask(false); });

  $('#leftovers-yes').addEventListener('click', function () {
    if (!pending) return;
    var button = $('#leftovers-yes');
    button.disabled = true;
    O.api('POST', '/api/day/close-leftovers', { reason: pending }).then(function (answer) {
      ask(false);
      form.elements.reason.value = '';
      result(answer.closed ? O.t('leftovers_done', { n: answer.closed, numbers: answer.numbers.join('、') })
        : O.t('leftovers_done_none'), true);
      lookup.refresh();
    }, function (err) {
      ask(false);
      result(O.errorText(err));
    }).finally(function () { button.disabled = false; });
  });

  /* ---- wiring ------------------------------------------------------------------------------- */

  document.addEventListener('onestop:admin', function (e) {
    lookup.onEvent((e.detail && e.detail.event) || {});
  });

  document.addEventListener('DOMContentLoaded', function () { // admin.js has set up the tabs
    var first = numberIn(location.hash);
    if (first) open(first);
  });

  window.OnestopAdminTickets = { lookup: lookup };
})();
