/* The touchscreen kiosk: categories → service items → required materials → take a number.
 *
 * One page, four views. Nothing here trusts the network: every call can fail and says so in the
 * resident's language; a ticket is issued at most once per visit to a service page (the button
 * locks on the first tap and the request carries a request_id the server deduplicates on).
 */
(function () {
  'use strict';

  var O = window.Onestop;
  var boot = O.boot;
  var KIOSK = boot.kiosk.id;
  var PRINTER_DEVICE = KIOSK + '.printer';

  var TICKET_SECONDS = 15;          // the ticket screen goes home by itself after this
  var TICKET_SECONDS_FALLBACK = 30; // ... or this, when the resident has to photograph it
  var IDLE_SECONDS = 60;            // any other page goes home after this long untouched
  var RELOAD_SECONDS = 5;           // retry loading the catalogue this often when it failed

  var state = {
    view: 'home',
    loaded: false,
    loadError: null,
    services: [],
    servicesById: {},
    categories: [],
    queues: {},
    category: null,
    service: null,
    requestId: null,
    busy: false,
    error: null,
    ticket: null,
    note: null,
    ticketUntil: 0,
    lastTouch: Date.now(),
    health: null,
    outcomes: {},
    outcomeOrder: [],
    code: '',
    checkinError: null,
    offerService: null,
    day: null           // GET /api/day: the day's kind and, per queue, whether numbers are issued
  };

  var D = window.OnestopDay;
  var DAY = boot.day || { kind: 'working' };  // until GET /api/day answers (then state.day)
  var CODE = boot.code || { alphabet: '', length: 8 };

  function $(id) { return document.getElementById(id); }

  /* ---- the hall's day ---------------------------------------------------------------------- */

  /* 'working', 'appointments' (check-in only) or 'closed': live from /api/day, else boot.day. */
  function dayKind() {
    var day = state.day;
    if (!day) return DAY.kind;
    if (day.kind === 'closed') return 'closed';
    if (day.check_in_only) return 'appointments';
    return day.kind === 'appointments' ? 'appointments' : 'working';
  }

  /* The issuing entry of a service's queue when its numbers have stopped for today, else null. */
  function issuingClosed(service) {
    var issuing = state.day && state.day.issuing;
    var entry = issuing && service ? issuing[service.queue] : null;
    return entry && entry.open === false ? entry : null;
  }

  /* Every queue has stopped issuing (after the cut-off): the home page says so. */
  function allIssuingClosed() {
    var issuing = state.day && state.day.issuing;
    var ids = issuing ? Object.keys(issuing) : [];
    if (!ids.length) return null;
    for (var i = 0; i < ids.length; i++) if (issuing[ids[i]].open !== false) return null;
    return issuing[ids[0]];
  }

  var dayWatch = D.watch(function (day) {
    state.day = day;
    render();
    tick();  // the header clock follows the server's clock from now on
  });

  /* ---- data -------------------------------------------------------------------------------- */

  function setServices(services) {
    state.services = services;
    state.servicesById = {};
    state.categories = [];
    var byKey = {};
    services.forEach(function (service) {
      state.servicesById[service.id] = service;
      var key = service.category;
      if (!byKey[key]) {
        byKey[key] = { key: key, name: service.category, name_en: service.category_en, services: [] };
        state.categories.push(byKey[key]);
      }
      byKey[key].services.push(service);
    });
  }

  function setQueues(queues) {
    var map = {};
    queues.forEach(function (q) { map[q.id] = q; });
    state.queues = map;
  }

  function load() {
    return Promise.all([O.api('GET', '/api/services'), O.api('GET', '/api/queues')])
      .then(function (results) {
        setServices(results[0] || []);
        setQueues(results[1] || []);
        state.loaded = true;
        state.loadError = null;
        render();
      }, function (err) {
        state.loadError = err;
        render();
        setTimeout(function () { if (!state.loaded) load(); }, RELOAD_SECONDS * 1000);
      });
  }

  function loadHealth() {
    return O.api('GET', '/api/kiosks/' + encodeURIComponent(KIOSK)).then(function (health) {
      state.health = health;
      renderBanner();
    }, function () { /* keep what we knew; the event stream will tell us more */ });
  }

  var queueTimer = null;
  function refreshQueuesSoon() {
    if (queueTimer) return;
    queueTimer = setTimeout(function () {
      queueTimer = null;
      O.api('GET', '/api/queues').then(function (queues) {
        setQueues(queues || []);
        renderCounts();
      }, function () { /* counts from events stay */ });
    }, 500);
  }

  /* ---- navigation and timers --------------------------------------------------------------- */

  function go(view) {
    state.view = view;
    state.lastTouch = Date.now();
    document.querySelectorAll('.view').forEach(function (section) {
      section.hidden = section.getAttribute('data-view') !== view;
    });
    render();
    window.scrollTo(0, 0);
  }

  function openCategory(category) {
    state.category = category;
    go('category');
    refreshQueuesSoon();
  }

  function openService(service) {
    state.service = service;
    state.requestId = O.randomId(); // one per visit, reused by retries of this visit
    state.error = null;
    go('service');
    refreshQueuesSoon();
  }

  /* The resident is done (or gone): back to the start, in Chinese, for the next person. */
  function endSession() {
    state.ticket = null;
    state.note = null;
    state.error = null;
    state.category = null;
    state.service = null;
    resetCheckin();
    if (O.lang !== 'zh') setLanguage('zh');
    go('home');
  }

  function ticketSeconds() {
    return state.note && state.note.kind === 'warn' ? TICKET_SECONDS_FALLBACK : TICKET_SECONDS;
  }

  function extendTicket() {
    state.ticketUntil = Math.max(state.ticketUntil, Date.now() + ticketSeconds() * 1000);
  }

  function touched() {
    state.lastTouch = Date.now();
    if (state.view === 'ticket') extendTicket();
  }

  function tick() {
    var now = Date.now();
    var clock = O.clockParts(new Date(dayWatch.now()));  // the hall's clock, not the PC's
    if ($('clock-time').textContent !== clock.time) $('clock-time').textContent = clock.time;
    if ($('clock-date').textContent !== clock.date) $('clock-date').textContent = clock.date;
    if (state.view === 'ticket') {
      var left = Math.ceil((state.ticketUntil - now) / 1000);
      if (left <= 0) {
        endSession();
      } else {
        $('ticket-countdown').textContent = O.t('return_in', { n: left });
      }
    } else if (now - state.lastTouch >= IDLE_SECONDS * 1000) {
      if (state.view !== 'home' || O.lang !== 'zh') endSession();
      state.lastTouch = now;
    }
  }

  /* ---- taking a number --------------------------------------------------------------------- */

  function takeNumber() {
    if (state.busy || state.view !== 'service' || !state.service) return;
    if (issuingClosed(state.service)) {
      renderService();
      return;
    }
    state.busy = true;
    state.error = null;
    renderService(); // disables the button before anything else can happen
    var body = { service: state.service.id, request_id: state.requestId };
    O.api('POST', '/api/kiosks/' + encodeURIComponent(KIOSK) + '/tickets', body, 15000)
      .then(function (ticket) {
        state.busy = false;
        state.requestId = null;
        showTicket(ticket);
      }, function (err) {
        state.busy = false;
        state.error = err;
        if (state.view === 'service') renderService();
      });
  }

  function noteFromResponse(ticket) {
    var p = ticket.print || {};
    var messages = boot.printer_messages;
    if (p.state === 'queued' || p.state === 'pending') return { kind: 'info', key: 'printing' };
    if (p.state === 'printed') return { kind: 'ok', key: 'printed' };
    if (p.state === 'failed') return { kind: 'warn', key: 'print_failed' };
    if (p.state === 'none' && !p.message) {
      return { kind: 'warn', message: messages.disabled[0], message_en: messages.disabled[1] };
    }
    return { kind: 'warn', message: p.message || '', message_en: p.message_en || '' };
  }

  function noteFromEvent(event) {
    if (event.type === 'ticket.printed') return { kind: 'ok', key: 'printed' };
    var texts = boot.printer_messages[event.data.printer_state] || [];
    return { kind: 'warn', message: event.data.message || texts[0] || '', message_en: texts[1] || '' };
  }

  function showTicket(ticket) {
    state.ticket = ticket;
    state.note = noteFromResponse(ticket);
    var earlier = state.outcomes[ticket.id]; // the printer may have answered before we did
    if (earlier) state.note = earlier;
    state.ticketUntil = 0;
    go('ticket');
    extendTicket();
    tick();
  }

  function rememberOutcome(ticketId, note) {
    if (!(ticketId in state.outcomes)) state.outcomeOrder.push(ticketId);
    state.outcomes[ticketId] = note;
    while (state.outcomeOrder.length > 50) delete state.outcomes[state.outcomeOrder.shift()];
  }

  /* ---- appointment check-in (预约签到) ------------------------------------------------------ */

  function resetCheckin() {
    state.code = '';
    state.checkinError = null;
    state.offerService = null;
  }

  function openCheckin() {
    resetCheckin();
    state.requestId = null;
    go('checkin');
  }

  function typeKey(key) {
    if (state.busy) return;
    if (key === 'del') state.code = state.code.slice(0, -1);
    else if (key === 'clear') state.code = '';
    else if (state.code.length < CODE.length) state.code += key;
    state.checkinError = null;
    state.offerService = null;
    renderCheckin();
  }

  function checkIn() {
    if (state.busy || state.view !== 'checkin' || state.code.length !== CODE.length) return;
    state.busy = true;
    state.checkinError = null;
    state.offerService = null;
    renderCheckin();
    var body = { code: state.code, print: true };
    O.api('POST', '/api/kiosks/' + encodeURIComponent(KIOSK) + '/check-in', body, 15000)
      .then(function (ticket) {
        state.busy = false;
        resetCheckin();
        showTicket(ticket);
      }, function (err) {
        state.busy = false;
        state.checkinError = err;
        var details = err.details || {};
        // Too early or too late: a normal ticket instead, while walk-in tickets are issued today.
        if (details.offer_normal_ticket && dayKind() === 'working' && state.servicesById[details.service] &&
            !issuingClosed(state.servicesById[details.service])) {
          state.offerService = details.service;
        }
        if (state.view === 'checkin') renderCheckin();
      });
  }

  function takeNormal() {
    var service = state.servicesById[state.offerService];
    if (!service) return;
    state.service = service;
    state.requestId = O.randomId();
    state.error = null;
    go('service');
    takeNumber();
  }

  function renderCheckin() {
    var display = $('code-display');
    var cells = [];
    for (var i = 0; i < CODE.length; i++) {
      cells.push(O.el('div', {
        className: 'code-cell' + (i === state.code.length ? ' code-cell-next' : ''),
        text: state.code.charAt(i)
      }));
    }
    display.replaceChildren.apply(display, cells);
    var pad = $('keypad');
    if (!pad.childElementCount) {
      var keys = CODE.alphabet.split('').map(function (ch) {
        return O.el('button', { className: 'key', text: ch, attrs: { type: 'button' }, dataset: { key: ch } });
      });
      keys.push(O.el('button', { className: 'key key-wide', attrs: { type: 'button', 'data-t': 'key_delete' },
                                 dataset: { key: 'del' }, text: O.t('key_delete') }));
      keys.push(O.el('button', { className: 'key key-wide', attrs: { type: 'button', 'data-t': 'key_clear' },
                                 dataset: { key: 'clear' }, text: O.t('key_clear') }));
      pad.replaceChildren.apply(pad, keys);
    }
    var submit = $('checkin-submit');
    submit.disabled = state.busy || state.code.length !== CODE.length;
    submit.textContent = state.busy ? O.t('checking_in') : O.t('checkin_submit');
    var error = $('checkin-error');
    error.hidden = !state.checkinError;
    error.textContent = state.checkinError ? O.errorText(state.checkinError) : '';
    $('take-normal').hidden = !state.offerService;
  }

  /* ---- live events ------------------------------------------------------------------------- */

  function onEvent(event) {
    var data = event.data || {};
    if (event.type === 'snapshot' || event.type.indexOf('day.') === 0) dayWatch.refresh();
    if (event.type === 'snapshot') {
      if (Array.isArray(data.queues)) setQueues(data.queues);
      renderCounts();
      loadHealth();
      return;
    }
    if (event.type.indexOf('ticket.') === 0) {
      if (data.queues && typeof data.queues === 'object') {
        Object.keys(data.queues).forEach(function (id) {
          if (state.queues[id]) state.queues[id].waiting = data.queues[id];
        });
        renderCounts();
        if (state.view === 'service' || state.view === 'category') refreshQueuesSoon();
      }
      if ((event.type === 'ticket.printed' || event.type === 'ticket.print_failed') && data.ticket) {
        var note = noteFromEvent(event);
        rememberOutcome(data.ticket.id, note);
        if (state.ticket && state.ticket.id === data.ticket.id) {
          state.note = note;
          if (note.kind === 'warn') extendTicket();
          renderNote();
        }
      }
      return;
    }
    if (event.type.indexOf('counter.') === 0) {
      refreshQueuesSoon();
      return;
    }
    if (event.type === 'device.status' && data.device === PRINTER_DEVICE) {
      state.health = {
        state: data.state, can_print: !!data.ok, message: data.message,
        message_en: (boot.printer_messages[data.state] || [])[1] || ''
      };
      renderBanner();
    }
  }

  /* ---- rendering --------------------------------------------------------------------------- */

  function setLanguage(lang) {
    O.setLang(lang);
    document.querySelectorAll('.lang-btn').forEach(function (button) {
      button.setAttribute('aria-pressed', String(button.getAttribute('data-lang') === O.lang));
    });
    $('hall-name').textContent = O.pick(boot.hall, 'name');
    $('kiosk-name').textContent = O.t('kiosk_label', { name: boot.kiosk.name, id: boot.kiosk.id });
    document.title = O.pick(boot.hall, 'name') + ' · ' + O.t('kiosk_title');
  }

  function render() {
    renderBanner();
    if (state.view === 'home') renderHome();
    else if (state.view === 'category') renderCategory();
    else if (state.view === 'service') renderService();
    else if (state.view === 'ticket') renderTicket();
    else if (state.view === 'checkin') renderCheckin();
  }

  function renderCounts() {
    if (state.view === 'category') renderCategory();
    else if (state.view === 'service') renderServiceStats();
  }

  function renderBanner() {
    var banner = $('printer-banner');
    var health = state.health;
    if (!health || health.can_print) {
      banner.hidden = true;
      return;
    }
    banner.textContent = O.t(health.state === 'disabled' ? 'printer_banner_disabled' : 'printer_banner');
    banner.hidden = false;
  }

  function renderHome() {
    var status = $('home-status');
    var list = $('categories');
    // The hall's day decides what the kiosk offers: everything, check-in only, or nothing.
    var kind = dayKind();
    var stopped = kind === 'working' ? allIssuingClosed() : null;
    var note = $('day-note');
    note.hidden = kind === 'working' && !stopped;
    note.textContent = kind === 'closed' ? O.t('closed_today')
      : (kind === 'appointments' ? O.t('appointments_day') : (stopped ? D.issuingMessage(stopped) : ''));
    $('checkin-open').hidden = kind === 'closed';
    var walkIn = kind === 'working';
    $('home-prompt').hidden = !walkIn;
    if (!walkIn) {
      list.replaceChildren();
      status.hidden = true;
      return;
    }
    if (!state.loaded) {
      list.replaceChildren();
      status.hidden = false;
      $('home-status-text').textContent = state.loadError ? O.errorText(state.loadError) : O.t('loading');
      $('home-retry').hidden = !state.loadError;
      return;
    }
    if (!state.categories.length) {
      list.replaceChildren();
      status.hidden = false;
      $('home-status-text').textContent = O.t('no_services');
      $('home-retry').hidden = true;
      return;
    }
    status.hidden = true;
    list.replaceChildren.apply(list, state.categories.map(function (category, index) {
      return O.el('button', {
        className: 'tile tile-category', attrs: { type: 'button' }, dataset: { category: index }
      }, [
        O.el('span', { className: 'tile-name', text: O.pick(category, 'name') }),
        O.el('span', { className: 'tile-sub', text: O.t('items_count', { n: category.services.length }) })
      ]);
    }));
  }

  function waitingOf(service) {
    var queue = state.queues[service.queue];
    return queue ? queue.waiting : null;
  }

  function renderCategory() {
    var category = state.category;
    if (!category) return;
    $('category-title').textContent = O.pick(category, 'name');
    var list = $('service-list');
    list.replaceChildren.apply(list, category.services.map(function (service) {
      var waiting = waitingOf(service);
      var closed = issuingClosed(service);
      // A closed item stays tappable (its materials are worth reading for tomorrow) but says
      // before the tap that no number is issued today.
      return O.el('button', {
        className: 'tile tile-service' + (closed ? ' tile-closed' : ''), attrs: { type: 'button' },
        dataset: { service: service.id, open: closed ? 'false' : 'true' }
      }, [
        O.el('span', { className: 'tile-name', text: O.pick(service, 'name') }),
        O.el('span', {
          className: 'tile-count',
          text: closed ? D.issuingMessage(closed) : (waiting === null ? '' : O.t('waiting_n', { n: waiting }))
        })
      ]);
    }));
  }

  function renderServiceStats() {
    var service = state.service;
    if (!service) return;
    var queue = state.queues[service.queue];
    $('svc-waiting').textContent = queue ? O.t('persons', { n: queue.waiting }) : '—';
    // No estimate for a queue that takes no more numbers today: it would read as an invitation.
    $('svc-wait').textContent = issuingClosed(service) ? '—'
      : (queue ? O.fmtWait(queue.estimated_wait_seconds, 'wait_none') : '—');
  }

  function renderService() {
    var service = state.service;
    if (!service) return;
    $('service-title').textContent = O.pick(service, 'name');
    var materials = O.lang === 'en' && service.materials_en && service.materials_en.length
      ? service.materials_en : service.materials;
    var list = $('materials');
    if (materials && materials.length) {
      list.replaceChildren.apply(list, materials.map(function (text) {
        return O.el('li', { text: text });
      }));
    } else {
      list.replaceChildren(O.el('li', { className: 'materials-none', text: O.t('no_materials') }));
    }
    renderServiceStats();
    $('svc-limit').textContent = service.committed_days > 0
      ? O.t('time_limit_days', { n: service.committed_days }) : O.t('time_limit_now');
    var take = $('take');
    var closed = issuingClosed(service);
    take.hidden = !!closed && !state.busy;
    take.disabled = state.busy || !!closed;
    take.setAttribute('aria-busy', String(state.busy));
    take.textContent = state.busy ? O.t('taking') : O.t('take_number');
    var closedNote = $('take-closed');
    closedNote.hidden = !closed;
    closedNote.textContent = closed ? D.issuingMessage(closed) : '';
    var error = $('take-error');
    error.hidden = !state.error;
    error.textContent = state.error ? O.errorText(state.error) : '';
  }

  function renderNote() {
    var note = state.note;
    var box = $('print-note');
    if (!note) {
      box.hidden = true;
      return;
    }
    box.hidden = false;
    box.className = 'print-note print-note-' + note.kind;
    box.textContent = note.key ? O.t(note.key) : O.pickMessage(note, 'print_failed');
  }

  function renderTicket() {
    var ticket = state.ticket;
    if (!ticket) return;
    var service = state.servicesById[ticket.service];
    $('ticket-number').textContent = ticket.number;
    $('ticket-service').textContent = service ? O.pick(service, 'name') : O.pick(ticket, 'service_name');
    $('ticket-ahead').textContent = O.t('persons', { n: ticket.people_ahead || 0 });
    $('ticket-wait').textContent = O.fmtWait(ticket.estimated_wait_seconds, 'wait_soon');
    var qr = $('ticket-qr');
    if (typeof ticket.qr_url === 'string' && ticket.qr_url.indexOf('/t/') === 0) {
      if (qr.getAttribute('src') !== ticket.qr_url) qr.setAttribute('src', ticket.qr_url);
      qr.hidden = false;
    } else {
      qr.removeAttribute('src');
      qr.hidden = true;
    }
    renderNote();
  }

  /* ---- wiring ------------------------------------------------------------------------------ */

  document.addEventListener('pointerdown', touched, true);
  document.addEventListener('touchstart', touched, { capture: true, passive: true });
  document.addEventListener('keydown', touched, true);
  document.addEventListener('contextmenu', function (e) { e.preventDefault(); });

  document.addEventListener('click', function (e) {
    var target = e.target.closest('button');
    if (!target || target.disabled) return;
    if (target.classList.contains('lang-btn')) {
      setLanguage(target.getAttribute('data-lang'));
      render();
      tick();
    } else if (target.id === 'take') {
      takeNumber();
    } else if (target.id === 'checkin-open') {
      openCheckin();
    } else if (target.dataset.key !== undefined) {
      typeKey(target.dataset.key);
    } else if (target.id === 'checkin-submit') {
      checkIn();
    } else if (target.id === 'take-normal') {
      takeNormal();
    } else if (target.id === 'done') {
      endSession();
    } else if (target.id === 'home-retry') {
      state.loadError = null;
      render();
      load();
    } else if (target.dataset.category !== undefined) {
      openCategory(state.categories[Number(target.dataset.category)]);
    } else if (target.dataset.service !== undefined) {
      openService(state.servicesById[target.dataset.service]);
    } else if (target.dataset.action === 'home') {
      go('home');
    } else if (target.dataset.action === 'back-category') {
      if (state.category) go('category');
      else go('home');
    }
  });

  setLanguage(O.lang);
  go('home');
  tick();
  setInterval(tick, 1000);
  load();
  loadHealth();
  new O.EventStream(onEvent).start();
})();
