/* 号票查询与更正: find today's ticket by its printed number, show its state and every step with
 * who did it, and offer the corrections the page allows (/admin: 过号顺延, cancel, re-route;
 * /desk: 过号顺延, cancel). Shared by the admin page and the first-inquiry desk.
 *
 *   var lookup = OnestopTicketLookup.mount(rootElement, { actions: ['requeue', 'cancel'] });
 *   lookup.find('B001');   lookup.render();   lookup.onEvent(event);
 *
 * Words come from the page's TEXTS (keys lk_*, onestop/admin/ticket_lookup.py); data only ever
 * enters the page through textContent. The server decides: a refused correction shows its
 * message as it is.
 */
(function () {
  'use strict';

  var O = window.Onestop;
  var NUMBER = /^[A-Za-z]\d{1,6}$/;

  function t(key, vars) { return O.t(key, vars); }

  function hms(iso) { return typeof iso === 'string' && iso.length >= 19 ? iso.slice(11, 19) : '—'; }

  function mount(root, options) {
    options = options || {};
    var allowed = options.actions || ['requeue', 'cancel'];
    var state = { ticket: null, events: [], queues: [], services: {}, windows: [], error: null,
                  done: null, busy: false, timer: null, loads: 0 };

    /* ---- the skeleton (built once; render() only changes its contents) ---------------------- */
    function field(labelKey, control) {
      var label = O.el('label', { className: 'lk-field' }, [O.el('span', { dataset: { t: labelKey } }), control]);
      return label;
    }
    var input = O.el('input', { className: 'lk-input', attrs: {
      name: 'number', type: 'text', maxlength: 8, autocomplete: 'off', spellcheck: 'false',
      'aria-label': t('lk_number') } });
    var findButton = O.el('button', { className: 'lk-find', attrs: { type: 'submit' } });
    var clearButton = O.el('button', { className: 'lk-clear', attrs: { type: 'button' }, dataset: { t: 'lk_clear' } });
    var form = O.el('form', { className: 'lk-form', attrs: { novalidate: '' } },
                    [field('lk_number', input), findButton, clearButton]);
    var error = O.el('p', { className: 'lk-error alert', attrs: { role: 'alert' } });
    var done = O.el('p', { className: 'lk-done', attrs: { role: 'status' } });

    var number = O.el('span', { className: 'lk-number' });
    var badge = O.el('span', { className: 'lk-state' });
    var facts = O.el('dl', { className: 'lk-facts' });
    var reason = O.el('input', { className: 'lk-reason', attrs: { name: 'reason', type: 'text', maxlength: 200 } });
    var reasonLabel = O.el('span');
    var target = O.el('select', { className: 'lk-target', attrs: { name: 'target' } });
    var targetField = field('lk_target', target);
    var hint = O.el('p', { className: 'lk-hint' });
    var buttons = {};
    ['requeue', 'cancel', 'reroute'].forEach(function (name) {
      buttons[name] = O.el('button', { className: 'lk-action lk-' + name,
                                       attrs: { type: 'button' }, dataset: { action: name } });
    });
    var reasonField = O.el('label', { className: 'lk-field lk-reason-field' }, [reasonLabel, reason]);
    var actions = O.el('div', { className: 'lk-actions' }, [
      hint, reasonField, targetField,
      O.el('div', { className: 'lk-buttons' }, allowed.map(function (name) { return buttons[name]; }))
    ]);
    var historyBody = O.el('tbody');
    var historyHead = O.el('tr', {}, ['lk_h_time', 'lk_h_what', 'lk_h_who', 'lk_h_window', 'lk_h_note']
      .map(function (key) { return O.el('th', { dataset: { t: key } }); }));
    var history = O.el('table', { className: 'lk-history' }, [O.el('thead', {}, [historyHead]), historyBody]);
    var result = O.el('div', { className: 'lk-result' }, [
      O.el('div', { className: 'lk-summary' }, [O.el('div', { className: 'lk-head' }, [number, badge]), facts]),
      actions,
      O.el('div', { className: 'lk-steps' }, [O.el('h3', { dataset: { t: 'lk_history' } }), history])
    ]);
    root.replaceChildren(form, error, done, result);

    /* ---- names ------------------------------------------------------------------------------- */
    function queueName(id) {
      var q = state.queues.find(function (x) { return x.id === id; });
      return q ? q.prefix + ' ' + O.pick(q, 'name') : id;
    }
    function windowName(n) {
      var w = state.windows.find(function (x) { return x.number === n; });
      return w ? O.pick(w, 'name') : t('lk_window_n', { n: n });
    }
    function serviceName(id) {
      var s = state.services[id];
      return s ? O.pick(s, 'name') : id;
    }
    function actorText(actor) {
      if (!actor) return '—';
      var name = actor.name || actor.id || '';
      var roleKey = 'lk_role_' + actor.role;
      if (actor.kind === 'public' || !actor.role || t(roleKey) === roleKey) return name;
      return t('lk_actor', { name: name, role: t(roleKey) });
    }

    /* ---- one step of the history, in words ---------------------------------------------------- */
    function stepWords(e, isLastFinish) {
      var kind = String(e.type || '').replace(/^ticket\./, '');
      var detail = e.detail || {};
      var staff = e.staff || {};
      var what = t('lk_ev_' + kind);
      if (what === 'lk_ev_' + kind) what = e.type;
      var notes = [];
      var tk = state.ticket || {};
      if (kind === 'issued') {
        // The actor says who issued it; the desk and appointment check-in say how, too.
        var channel = 'lk_channel_' + (tk.channel || '');
        if (t(channel) !== channel) what += '（' + t(channel) + '）';
        if (tk.priority === 'green') notes.push(t('lk_green') + (tk.reason ? '：' + tk.reason : ''));
      } else if (kind === 'finished' && isLastFinish && tk.outcome) {
        what += '（' + t('lk_outcome_' + tk.outcome) + '）';
      } else if (kind === 'transferred') {
        var tr = detail.transfer || {};
        if (tr.from_counter === null || tr.from_counter === undefined) what = t('lk_ev_rerouted');
        var to = tr.to_counter ? windowName(tr.to_counter)
          : (tr.to_service && tr.to_service !== tr.from_service ? serviceName(tr.to_service) : queueName(tr.to_queue));
        notes.push(t('lk_to', { target: to }));
      } else if (kind === 'cancelled' && staff.bulk) {
        what = t('lk_ev_cancelled_bulk');
      } else if (kind === 'requeued' && detail.requeue) {
        notes.push(t('lk_places', { n: detail.requeue.places }));
      } else if (kind === 'redirected' && detail.redirect) {
        notes.push(t('lk_redirect', { window: windowName(detail.redirect.from_counter) }));
      } else if (kind === 'undone') {
        notes.push(t(detail.undone === 'ticket.finished' ? 'lk_undone_finished' : 'lk_undone_no_show'));
      } else if (kind === 'returned' && detail.returned) {
        var key = 'lk_returned_' + detail.returned.reason;
        if (t(key) !== key) notes.push(t(key));
      } else if (kind === 'print_failed' && detail.message) {
        notes.push(detail.message);
      }
      if (staff.reason) notes.push(t('lk_reason', { text: staff.reason }));
      if (staff.note) notes.push(t('lk_note', { text: staff.note }));
      return { what: what, note: notes.join('；') };
    }

    /* ---- rendering --------------------------------------------------------------------------- */
    function fact(key, value) {
      facts.appendChild(O.el('div', {}, [O.el('dt', { text: t(key) }), O.el('dd', { text: value })]));
    }

    function renderTargets(tk) {
      var keep = target.value;
      var options = [O.el('option', { text: t('lk_target_choose'), attrs: { value: '' } })];
      var queues = O.el('optgroup', { attrs: { label: t('lk_target_queues') } });
      state.queues.forEach(function (q) {
        if (q.id !== tk.queue) queues.appendChild(O.el('option', { text: queueName(q.id), attrs: { value: 'queue:' + q.id } }));
      });
      var windows = O.el('optgroup', { attrs: { label: t('lk_target_windows') } });
      state.windows.forEach(function (w) {
        if (!w.staffed) return;
        windows.appendChild(O.el('option', {
          text: w.clerk_name ? t('lk_target_window', { window: O.pick(w, 'name'), clerk: w.clerk_name }) : O.pick(w, 'name'),
          attrs: { value: 'counter:' + w.number } }));
      });
      options.push(queues, windows);
      target.replaceChildren.apply(target, options);
      if (keep && target.querySelector('option[value="' + keep.replace(/"/g, '') + '"]')) target.value = keep;
    }

    function render() {
      O.applyTexts(root);
      input.setAttribute('placeholder', t('lk_placeholder'));
      input.setAttribute('aria-label', t('lk_number'));
      reason.setAttribute('placeholder', t('lk_reason_placeholder'));
      findButton.textContent = state.busy === 'find' ? t('lk_finding') : t('lk_find');
      findButton.disabled = !!state.busy;
      clearButton.hidden = !state.ticket && !state.error;
      error.hidden = !state.error;
      error.textContent = state.error ? O.errorText(state.error) : '';
      done.hidden = !state.done;
      done.textContent = state.done || '';
      var tk = state.ticket;
      result.hidden = !tk;
      if (!tk) return;
      result.dataset.state = tk.state;
      result.dataset.ticket = tk.number;
      number.textContent = tk.number;
      badge.textContent = t('lk_state_' + tk.state);
      badge.className = 'lk-state lk-state-' + tk.state;
      facts.replaceChildren();
      fact('lk_service', O.pick(tk, 'service_name'));
      fact('lk_queue', queueName(tk.queue));
      if (tk.priority === 'green') fact('lk_green', tk.reason || '✓');
      if (tk.state === 'waiting') {
        fact('lk_ahead', t('lk_persons', { n: tk.people_ahead || 0 }));
        fact('lk_wait', O.fmtWait(tk.estimated_wait_seconds));
        if (tk.target_counter) fact('lk_sent_to', windowName(tk.target_counter));
      } else if (tk.counter) {
        fact('lk_window', windowName(tk.counter));
      }
      fact('lk_issued', hms(tk.issued_at));
      if (tk.requeue_count) fact('lk_requeues', t('lk_requeues_n', { n: tk.requeue_count }));
      if (tk.closed_reason) fact('lk_closed_reason', tk.closed_reason);

      var can = {
        requeue: tk.state === 'no_show',
        cancel: tk.state === 'waiting' || tk.state === 'called',
        reroute: tk.state === 'waiting'
      };
      var any = false;
      allowed.forEach(function (name) {
        buttons[name].hidden = !can[name];
        buttons[name].disabled = !!state.busy;
        buttons[name].textContent = state.busy === name ? t('lk_working') : t('lk_' + name);
        any = any || can[name];
      });
      reasonField.hidden = !any;
      var mayReroute = can.reroute && allowed.indexOf('reroute') !== -1;
      reasonLabel.textContent = t(mayReroute ? 'lk_reason_required' : can.cancel ? 'lk_reason_cancel' : 'lk_reason_optional');
      targetField.hidden = !mayReroute;
      if (!targetField.hidden) renderTargets(tk);
      var noneKey = 'lk_no_action_' + tk.state;
      hint.hidden = any || t(noneKey) === noneKey;
      hint.textContent = hint.hidden ? '' : t(noneKey);

      var lastFinish = -1;
      state.events.forEach(function (e, i) { if (e.type === 'ticket.finished') lastFinish = i; });
      historyBody.replaceChildren.apply(historyBody, state.events.map(function (e, i) {
        var words = stepWords(e, i === lastFinish);
        return O.el('tr', { dataset: { type: e.type, seq: e.seq } }, [
          O.el('td', { className: 'lk-time', text: hms(e.at) }),
          O.el('td', { className: 'lk-what', text: words.what }),
          O.el('td', { className: 'lk-who', text: actorText(e.actor) }),
          O.el('td', { className: 'lk-where', text: e.counter ? windowName(e.counter) : '—' }),
          O.el('td', { className: 'lk-note', text: words.note })
        ]);
      }));
      if (!state.events.length) {
        historyBody.appendChild(O.el('tr', {}, [O.el('td', { text: t('lk_no_history'), attrs: { colspan: 5 } })]));
      }
    }

    /* ---- loading ----------------------------------------------------------------------------- */
    function loadNames() {
      if (state.queues.length) return Promise.resolve();
      return Promise.all([O.api('GET', '/api/queues'), O.api('GET', '/api/services')]).then(function (r) {
        state.queues = r[0] || [];
        (r[1] || []).forEach(function (s) { state.services[s.id] = s; });
      }, function () { /* names fall back to ids */ });
    }

    /* Today's ticket `wanted` with its history; keepMessages leaves the last action's answer up.
     * Only the latest load is shown: a live refresh still under way never overwrites a newer
     * lookup or the state after a correction. */
    function load(wanted, keepMessages) {
      var mine = ++state.loads;
      return Promise.all([
        O.api('GET', '/api/desk/tickets/' + encodeURIComponent(wanted)),
        O.api('GET', '/api/counters').catch(function () { return state.windows; }),
        loadNames()
      ]).then(function (r) {
        if (mine !== state.loads) return null;
        state.windows = r[1] || [];
        return O.api('GET', '/api/tickets/' + r[0].id + '/history').then(function (h) {
          if (mine !== state.loads) return;
          // The lookup's own view has people ahead; the history's has the reason and channel.
          state.ticket = Object.assign({}, h.ticket, r[0]);
          state.events = h.events || [];
          if (!keepMessages) state.error = null;
        });
      }).catch(function (err) {
        if (mine !== state.loads) return;
        state.ticket = null;
        state.events = [];
        state.error = err;
        state.done = null;
      });
    }

    function find(text) {
      var wanted = String(text || '').trim().toUpperCase();
      input.value = wanted;
      state.done = null;
      if (!NUMBER.test(wanted)) {
        state.ticket = null;
        state.error = { key: 'lk_bad_number' };
        render();
        input.focus();
        return Promise.resolve();
      }
      state.busy = 'find';
      state.error = null;
      render();
      return load(wanted, false).finally(function () {
        state.busy = false;
        render();
      });
    }

    function refresh() {
      if (!state.ticket || state.busy) return;
      var shown = state.loads;
      load(state.ticket.number, true).then(function () {
        if (state.loads === shown + 1) render();
      });
    }

    /* ---- corrections ------------------------------------------------------------------------- */
    function act(name) {
      var tk = state.ticket;
      if (!tk || state.busy) return;
      var text = reason.value.trim();
      var body = {};
      var goesTo = null;
      if (name !== 'requeue' && !text) {
        state.error = { key: 'lk_need_reason' };
        state.done = null;
        render();
        reason.focus();
        return;
      }
      if (text) body.reason = text;
      if (name === 'reroute') {
        var choice = target.value.split(':');
        if (choice.length !== 2) {
          state.error = { key: 'lk_no_target' };
          render();
          target.focus();
          return;
        }
        if (choice[0] === 'queue') {
          body.queue = choice[1];
          goesTo = queueName(choice[1]);
        } else {
          body.counter = Number(choice[1]);
          goesTo = windowName(body.counter);
        }
      }
      state.busy = name;
      state.error = null;
      state.done = null;
      render();
      O.api('POST', '/api/desk/tickets/' + encodeURIComponent(tk.number) + '/' + name, body).then(function (answer) {
        var after = (answer && answer.ticket) || {};
        if (name === 'requeue') state.done = t('lk_requeued', { number: tk.number, n: after.people_ahead || 0 });
        else if (name === 'cancel') state.done = t('lk_cancelled', { number: tk.number });
        else state.done = t('lk_rerouted', { number: tk.number, target: goesTo });
        reason.value = '';
        target.value = '';
        return load(tk.number, true);
      }, function (err) {
        state.error = err;
        // The ticket may have moved on meanwhile: show it as it is now.
        return load(tk.number, true);
      }).finally(function () {
        state.busy = false;
        render();
        if (options.onChange) options.onChange(state.ticket);
      });
    }

    /* ---- wiring ------------------------------------------------------------------------------ */
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      find(input.value);
    });
    allowed.forEach(function (name) {
      buttons[name].addEventListener('click', function () { act(name); });
    });
    clearButton.addEventListener('click', function () {
      state.loads += 1; // whatever is still loading is no longer wanted
      state.ticket = null;
      state.events = [];
      state.error = null;
      state.done = null;
      input.value = '';
      reason.value = '';
      render();
      input.focus();
    });

    /* A step of the ticket shown (or a window staffed or left, for re-routing): read it again. */
    function onEvent(event) {
      if (!state.ticket || !event || typeof event.type !== 'string') return;
      var data = event.data || {};
      var mine = event.type.indexOf('ticket.') === 0 && data.ticket && data.ticket.id === state.ticket.id;
      var windows = event.type === 'counter.staffed' || event.type === 'counter.unstaffed';
      var line = event.type.indexOf('ticket.') === 0 && state.ticket.state === 'waiting';
      if (!mine && !windows && !line) return;
      if (state.timer) return;
      state.timer = setTimeout(function () {
        state.timer = null;
        refresh();
      }, 400);
    }

    render();
    return { find: find, render: render, refresh: refresh, onEvent: onEvent, state: state, input: input };
  }

  window.OnestopTicketLookup = { mount: mount };
})();
