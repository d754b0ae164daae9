/* 首问责任岗: issue a green-channel ticket for a resident (service, reason, optional printer),
 * and 号票查询: find a ticket by its number, 过号顺延 or cancel it (OnestopTicketLookup, the
 * lookup shared with /admin). Desk staff sign in at /login; the server records who did what.
 */
(function () {
  'use strict';

  var O = window.Onestop;
  var boot = O.boot;
  var REASON_OTHER = 'reason_other';

  var state = {
    services: [],
    servicesById: {},
    queues: {},
    kiosks: [],
    service: null,
    reason: null,
    requestId: O.randomId(),
    busy: false,
    error: null,
    ticket: null,
    note: null,
    outcomes: {}
  };

  function $(id) { return document.getElementById(id); }

  var lookup = window.OnestopTicketLookup.mount($('d-lookup-body'), { actions: ['requeue', 'cancel'] });

  function load() {
    Promise.all([O.api('GET', '/api/services'), O.api('GET', '/api/queues'), O.api('GET', '/api/kiosks')])
      .then(function (r) {
        state.services = r[0] || [];
        state.services.forEach(function (s) { state.servicesById[s.id] = s; });
        (r[1] || []).forEach(function (q) { state.queues[q.id] = q; });
        state.kiosks = r[2] || [];
        state.error = null;
        render();
      }, function (err) {
        state.error = err;
        render();
        setTimeout(load, 5000);
      });
  }

  function reasonText() {
    var detail = $('d-reason-text').value.trim();
    if (!state.reason) return detail;
    var label = boot.texts.zh[state.reason]; // the ledger keeps the reason in Chinese
    if (state.reason === REASON_OTHER) return detail ? label + '：' + detail : '';
    return detail ? label + '：' + detail : label;
  }

  function issue() {
    if (state.busy) return;
    if (!state.service) {
      state.error = { key: 'need_service' };
      renderForm();
      return;
    }
    var reason = reasonText().slice(0, 200);
    if (!reason) {
      state.error = { key: 'need_reason' };
      renderForm();
      $('d-reason-text').focus();
      return;
    }
    var body = { service: state.service.id, reason: reason, request_id: state.requestId };
    var printAt = $('d-print').value;
    if (printAt) body.print_at = printAt;
    state.busy = true;
    state.error = null;
    renderForm();
    O.api('POST', '/api/desk/tickets', body, 15000).then(function (ticket) {
      state.busy = false;
      state.ticket = ticket;
      state.ticket.reason_shown = reason;
      state.note = noteFor(ticket);
      if (state.outcomes[ticket.id]) state.note = state.outcomes[ticket.id];
      renderForm();
      renderResult();
    }, function (err) {
      state.busy = false;
      state.error = err;
      renderForm();
    });
  }

  function noteFor(ticket) {
    var p = ticket.print;
    if (!p) return null; // not printed: the QR on screen is the ticket
    if (p.state === 'queued' || p.state === 'pending') return { kind: 'info', key: 'printing' };
    if (p.state === 'printed') return { kind: 'ok', key: 'printed' };
    return { kind: 'warn', message: p.message || '', message_en: p.message_en || '' };
  }

  function reset() {
    state.ticket = null;
    state.note = null;
    state.service = null;
    state.reason = null;
    state.error = null;
    state.requestId = O.randomId();
    $('d-reason-text').value = '';
    render();
    window.scrollTo(0, 0);
  }

  /* ---- rendering --------------------------------------------------------------------------- */

  function render() {
    renderServices();
    renderReasons();
    renderKiosks();
    renderForm();
    renderResult();
  }

  function renderServices() {
    var box = $('d-services');
    if (!state.services.length) return;
    var groups = [];
    var byKey = {};
    state.services.forEach(function (s) {
      if (!byKey[s.category]) {
        byKey[s.category] = { name: s.category, name_en: s.category_en, items: [] };
        groups.push(byKey[s.category]);
      }
      byKey[s.category].items.push(s);
    });
    box.replaceChildren.apply(box, groups.map(function (group) {
      return O.el('div', { className: 'd-group' }, [
        O.el('h3', { text: O.pick(group, 'name') }),
        O.el('div', { className: 'd-choices' }, group.items.map(function (s) {
          var q = state.queues[s.queue];
          var selected = state.service && state.service.id === s.id;
          return O.el('button', {
            className: 'd-choice', attrs: { type: 'button', 'aria-pressed': selected },
            dataset: { service: s.id }
          }, [
            O.el('span', { className: 'd-choice-name', text: O.pick(s, 'name') }),
            O.el('span', { className: 'd-choice-sub', text: q ? O.t('waiting_n', { n: q.waiting }) : '' })
          ]);
        }))
      ]);
    }));
  }

  function renderReasons() {
    var box = $('d-reasons');
    box.replaceChildren.apply(box, boot.reasons.map(function (key) {
      return O.el('button', {
        className: 'd-choice d-reason', text: O.t(key),
        attrs: { type: 'button', 'aria-pressed': state.reason === key }, dataset: { reason: key }
      });
    }));
  }

  function renderKiosks() {
    var select = $('d-print');
    var current = select.value;
    var options = [O.el('option', { text: O.t('print_none'), attrs: { value: '' } })];
    state.kiosks.forEach(function (k) {
      var status = k.can_print ? O.t('printer_ok') : O.t('printer_down');
      options.push(O.el('option', { text: k.name + ' (' + k.kiosk + ') · ' + status, attrs: { value: k.kiosk } }));
    });
    select.replaceChildren.apply(select, options);
    select.value = current;
  }

  function renderForm() {
    var button = $('d-issue');
    button.disabled = state.busy || !!state.ticket;
    button.textContent = state.busy ? O.t('issuing') : O.t('issue');
    var error = $('d-error');
    error.hidden = !state.error;
    error.textContent = state.error ? O.errorText(state.error) : '';
  }

  function renderResult() {
    var t = state.ticket;
    $('d-result').hidden = !t;
    if (!t) return;
    $('d-number').textContent = t.number;
    var s = state.servicesById[t.service];
    $('d-service').textContent = s ? O.pick(s, 'name') : O.pick(t, 'service_name');
    $('d-reason-shown').textContent = t.reason_shown || '';
    $('d-ahead').textContent = O.t('persons', { n: t.people_ahead || 0 });
    $('d-wait').textContent = O.fmtWait(t.estimated_wait_seconds, 'wait_soon');
    var qr = $('d-qr');
    if (typeof t.qr_url === 'string' && t.qr_url.indexOf('/t/') === 0) qr.setAttribute('src', t.qr_url);
    var note = $('d-print-note');
    note.hidden = !state.note;
    if (state.note) {
      note.className = 'print-note print-note-' + state.note.kind;
      note.textContent = state.note.key ? O.t(state.note.key) : O.pickMessage(state.note, 'print_failed');
    }
  }

  /* ---- events ------------------------------------------------------------------------------ */

  function onEvent(event) {
    var data = event.data || {};
    lookup.onEvent(event);
    if (event.type === 'snapshot') {
      (data.queues || []).forEach(function (q) { state.queues[q.id] = q; });
      renderServices();
      return;
    }
    if (event.type.indexOf('ticket.') === 0 && data.queues) {
      Object.keys(data.queues).forEach(function (id) {
        if (state.queues[id]) state.queues[id].waiting = data.queues[id];
      });
      renderServices();
    }
    if ((event.type === 'ticket.printed' || event.type === 'ticket.print_failed') && data.ticket) {
      var texts = boot.printer_messages[data.printer_state] || [];
      var note = event.type === 'ticket.printed' ? { kind: 'ok', key: 'printed' }
        : { kind: 'warn', message: data.message || texts[0] || '', message_en: texts[1] || '' };
      state.outcomes[data.ticket.id] = note;
      if (state.ticket && state.ticket.id === data.ticket.id) {
        state.note = note;
        renderResult();
      }
    }
    if (event.type === 'device.status') {
      O.api('GET', '/api/kiosks').then(function (k) { state.kiosks = k || []; renderKiosks(); }, function () {});
    }
  }

  /* ---- wiring ------------------------------------------------------------------------------ */

  document.addEventListener('click', function (e) {
    var target = e.target.closest('button');
    if (!target || target.disabled) return;
    if (target.classList.contains('lang-btn')) {
      O.setLang(target.getAttribute('data-lang'));
      document.querySelectorAll('.lang-btn').forEach(function (b) {
        b.setAttribute('aria-pressed', String(b.getAttribute('data-lang') === O.lang));
      });
      $('hall-name').textContent = O.pick(boot.hall, 'name');
      render();
      lookup.render();
    } else if (target.dataset.service !== undefined) {
      state.service = state.servicesById[target.dataset.service] || null;
      state.error = null;
      renderServices();
      renderForm();
    } else if (target.dataset.reason !== undefined) {
      state.reason = state.reason === target.dataset.reason ? null : target.dataset.reason;
      state.error = null;
      renderReasons();
      renderForm();
      if (state.reason === REASON_OTHER) $('d-reason-text').focus();
    } else if (target.id === 'd-again') {
      reset();
    }
  });

  $('d-form').addEventListener('submit', function (e) {
    e.preventDefault();
    issue();
  });

  render();
  load();
  new O.EventStream(onEvent).start();
})();
