/* 预约服务 pages: /book (item → day → slot → phone → code) and /a/{code} (status, cancel, move).
 *
 * Plain JavaScript on top of common.js (Onestop): every text goes in with textContent, every
 * failure is shown in the resident's language, a button locks while its request is in flight.
 */
(function () {
  'use strict';

  var O = window.Onestop;
  var boot = O.boot;
  var WEEKDAYS = { zh: ['周一', '周二', '周三', '周四', '周五', '周六', '周日'],
                   en: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] };
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

  function $(id) { return document.getElementById(id); }

  var state = { services: [], byId: {}, service: null, days: [], day: null, slots: [],
                slot: null, busy: false, check: null, checkPhone: null };

  /* ---- formatting ------------------------------------------------------------------------- */

  function dayLabel(iso, weekday) {
    var parts = iso.split('-');
    var month = Number(parts[1]);
    var day = Number(parts[2]);
    if (O.lang === 'en') return WEEKDAYS.en[weekday] + ' ' + day + ' ' + MONTHS[month - 1];
    return month + '月' + day + '日 ' + WEEKDAYS.zh[weekday];
  }

  function hm(iso) { return iso.slice(11, 16); }

  function whenText(booking) {
    var date = new Date(booking.day + 'T00:00:00Z');
    var weekday = (date.getUTCDay() + 6) % 7;
    return dayLabel(booking.day, weekday) + ' ' + hm(booking.slot_start) + '-' + hm(booking.slot_end);
  }

  function showError(err) {
    var box = $('error');
    box.hidden = !err;
    box.textContent = err ? (err.key ? O.t(err.key) : O.errorText(err)) : '';
  }

  function materialsOf(serviceId) {
    var service = state.byId[serviceId];
    if (!service) return [];
    return O.lang === 'en' && service.materials_en && service.materials_en.length
      ? service.materials_en : (service.materials || []);
  }

  function fillMaterials(list, box, serviceId) {
    var items = materialsOf(serviceId);
    list.replaceChildren.apply(list, (items.length ? items : [O.t('no_materials')]).map(
      function (text) { return O.el('li', { text: text }); }));
    box.hidden = false;
  }

  /* ---- the day and slot picker (both pages) ------------------------------------------------ */

  function loadDays(serviceId) {
    state.days = [];
    state.day = null;
    state.slot = null;
    renderDays();
    return O.api('GET', '/api/appointments/days?service=' + encodeURIComponent(serviceId))
      .then(function (days) {
        state.days = days || [];
        renderDays();
      }, showError);
  }

  function loadSlots(serviceId, day) {
    state.slots = [];
    state.slot = null;
    renderSlots();
    return O.api('GET', '/api/appointments/slots?service=' + encodeURIComponent(serviceId) +
                 '&day=' + encodeURIComponent(day)).then(function (slots) {
      state.slots = slots || [];
      renderSlots();
    }, showError);
  }

  function renderDays() {
    var box = $('days');
    if (!state.days.length) {
      box.replaceChildren(O.el('p', { className: 'ap-empty', text: O.t('loading') }));
      if (state.daysLoaded) box.firstChild.textContent = O.t('no_days');
      return;
    }
    box.replaceChildren.apply(box, state.days.map(function (day) {
      var special = day.kind === 'appointments';
      return O.el('button', {
        className: 'chip' + (special ? ' chip-special' : ''),
        attrs: { type: 'button', 'aria-pressed': String(state.day === day.day) },
        dataset: { day: day.day }
      }, [
        O.el('span', { text: dayLabel(day.day, day.weekday) }),
        O.el('small', { text: special ? O.t('kind_appointments') : hm(day.opens_at) + '-' + hm(day.closes_at) })
      ]);
    }));
  }

  function renderSlots() {
    var card = $('slot-card');
    card.hidden = !state.day;
    var box = $('slots');
    if (!state.slots.length) {
      box.replaceChildren(O.el('p', { className: 'ap-empty', text: O.t(state.day ? 'loading' : 'no_slots') }));
      return;
    }
    var open = state.slots.filter(function (s) { return s.bookable; });
    if (!open.length) {
      box.replaceChildren(O.el('p', { className: 'ap-empty', text: O.t('no_slots') }));
    }
    box.replaceChildren.apply(box, state.slots.map(function (slot) {
      var note = !slot.bookable && slot.remaining === 0 && slot.booked < slot.capacity
        ? O.t('started') : (slot.remaining > 0 ? O.t('remaining', { n: slot.remaining }) : O.t('full'));
      var button = O.el('button', {
        className: 'chip',
        attrs: { type: 'button', 'aria-pressed': String(state.slot === slot.start) },
        dataset: { slot: slot.start }
      }, [O.el('span', { text: slot.label }), O.el('small', { text: note })]);
      button.disabled = !slot.bookable;
      return button;
    }));
  }

  function pickDay(day) {
    state.day = day;
    showError(null);
    renderDays();
    loadSlots(state.service, day);
  }

  function pickSlot(start) {
    state.slot = start;
    showError(null);
    renderSlots();
    var contact = $('contact-card');
    if (contact) contact.hidden = false;
  }

  /* ---- /book -------------------------------------------------------------------------------- */

  function initBook() {
    O.api('GET', '/api/services').then(function (services) {
      state.services = services || [];
      var select = $('service');
      var groups = {};
      state.services.forEach(function (service) {
        state.byId[service.id] = service;
        var key = service.category;
        if (!groups[key]) {
          groups[key] = O.el('optgroup', { attrs: { label: O.pick(service, 'category') } });
          select.appendChild(groups[key]);
        }
        groups[key].appendChild(O.el('option', { text: O.pick(service, 'name'), attrs: { value: service.id } }));
      });
    }, showError);

    $('service').addEventListener('change', function (e) {
      state.service = e.target.value || null;
      showError(null);
      $('day-card').hidden = !state.service;
      $('slot-card').hidden = true;
      $('contact-card').hidden = true;
      if (!state.service) { $('materials-box').hidden = true; return; }
      fillMaterials($('materials'), $('materials-box'), state.service);
      state.daysLoaded = false;
      loadDays(state.service).then(function () { state.daysLoaded = true; renderDays(); });
    });

    $('submit').addEventListener('click', submit);
    if (boot.verify_phone) $('sms-send').addEventListener('click', sendCode);
    $('again').addEventListener('click', function () { location.reload(); });
  }

  /* The hall verifies phones (防号贩子): a six-digit code by SMS, then the booking with it. The
   * button waits a minute before another code can be asked for, as the server does. */
  function sendCode() {
    var phone = $('phone').value.replace(/[\s-]/g, '');
    if (!/^1[3-9]\d{9}$/.test(phone)) return showError({ key: 'need_phone' });
    var button = $('sms-send');
    if (button.disabled) return;
    button.disabled = true;
    O.api('POST', '/api/appointments/verify', { phone: phone }).then(function (sent) {
      state.check = sent.check;
      state.checkPhone = phone;
      showError(null);
      $('sms-code').focus();
      var left = 60;
      var timer = setInterval(function () {
        left -= 1;
        button.textContent = left > 0 ? O.t('sms_wait', { n: left }) : O.t('sms_send');
        if (left <= 0) { clearInterval(timer); button.disabled = false; }
      }, 1000);
      button.textContent = O.t('sms_wait', { n: left });
    }, function (err) {
      button.disabled = false;
      showError(err);
    });
  }

  function submit() {
    if (state.busy) return;
    if (!state.service) return showError({ key: 'need_item' });
    if (!state.day || !state.slot) return showError({ key: 'need_slot' });
    var phone = $('phone').value.replace(/[\s-]/g, '');
    if (!/^1[3-9]\d{9}$/.test(phone)) return showError({ key: 'need_phone' });
    state.busy = true;
    var button = $('submit');
    button.disabled = true;
    button.textContent = O.t('submitting');
    var body = { service: state.service, day: state.day, slot: state.slot, phone: phone };
    if (boot.verify_phone) {
      var code = ($('sms-code').value || '').replace(/\D/g, '');
      if (!state.check || state.checkPhone !== phone) return showError({ key: 'need_sms_send' });
      if (code.length !== 6) return showError({ key: 'need_sms_code' });
      body.check = state.check;
      body.sms_code = code;
    }
    var name = $('name').value.trim();
    if (name) body.name = name;
    O.api('POST', '/api/appointments', body).then(showBooked, function (err) {
      showError(err);
      if (err.status === 409) loadSlots(state.service, state.day);
    }).finally(function () {
      state.busy = false;
      button.disabled = false;
      button.textContent = O.t('submit');
    });
  }

  function showBooked(booking) {
    $('view-form').hidden = true;
    $('view-done').hidden = false;
    $('done-code').textContent = booking.code;
    $('done-service').textContent = O.pick(booking, 'service_name');
    $('done-when').textContent = whenText(booking);
    $('done-phone').textContent = booking.phone_masked;
    $('done-checkin').textContent = O.t('checkin_window', { from: hm(booking.checkin_from), until: hm(booking.checkin_until) });
    fillMaterials($('done-materials'), $('done-materials-box'), booking.service);
    if (typeof booking.qr_url === 'string' && booking.qr_url.indexOf('/a/') === 0) {
      $('done-qr').setAttribute('src', booking.qr_url);
    }
    var link = $('done-link');
    link.setAttribute('href', '/a/' + encodeURIComponent(booking.code) + (O.lang === 'en' ? '?lang=en' : ''));
    window.scrollTo(0, 0);
  }

  /* ---- /a/{code} ---------------------------------------------------------------------------- */

  var booking = null;

  function renderBooking(notice) {
    $('a-state').textContent = O.t('state_' + booking.state);
    $('a-state').className = 'ap-state ap-state-' + booking.state;
    $('a-code').textContent = booking.code;
    $('a-service').textContent = O.pick(booking, 'service_name');
    $('a-when').textContent = whenText(booking);
    $('a-phone').textContent = booking.phone_masked;
    var active = booking.state === 'booked';
    $('a-checkin').hidden = !active;
    $('a-checkin').textContent = O.t('checkin_window', { from: hm(booking.checkin_from), until: hm(booking.checkin_until) });
    $('actions').hidden = !active;
    $('cancel-confirm').hidden = true;
    $('resched').hidden = true;
    $('notice').hidden = !notice;
    $('notice').textContent = notice || '';
    fillMaterials($('a-materials'), $('a-materials-box'), booking.service);
  }

  function guarded(button, request, done) {
    if (state.busy) return;
    state.busy = true;
    button.disabled = true;
    showError(null);
    request().then(done, showError).finally(function () {
      state.busy = false;
      button.disabled = false;
    });
  }

  function initStatus() {
    booking = boot.appointment;
    state.service = booking.service;
    O.api('GET', '/api/services').then(function (services) {
      (services || []).forEach(function (s) { state.byId[s.id] = s; });
      renderBooking();
    }, function () { /* materials stay empty */ });
    renderBooking();
    var url = '/api/appointments/' + encodeURIComponent(booking.code);
    /* The code and the last four digits of the phone change a booking (a code seen over a
     * shoulder is not enough); the server checks them, the page only asks. */
    function last4() { return ($('last4').value || '').replace(/\D/g, ''); }
    function needLast4() {
      if (last4().length === 4) return false;
      showError({ key: 'need_last4' });
      $('last4').focus();
      return true;
    }
    $('cancel').addEventListener('click', function () {
      if (needLast4()) return;
      $('cancel-confirm').hidden = false;
      $('resched').hidden = true;
    });
    $('cancel-no').addEventListener('click', function () { $('cancel-confirm').hidden = true; });
    $('cancel-yes').addEventListener('click', function (e) {
      if (needLast4()) return;
      var body = { phone_last4: last4() };
      guarded(e.currentTarget, function () { return O.api('POST', url + '/cancel', body); }, function (b) {
        booking = b;
        renderBooking(O.t('cancelled_ok'));
      });
    });
    $('reschedule').addEventListener('click', function () {
      if (needLast4()) return;
      $('cancel-confirm').hidden = true;
      $('resched').hidden = false;
      state.daysLoaded = false;
      loadDays(booking.service).then(function () { state.daysLoaded = true; renderDays(); });
    });
    $('resched-yes').addEventListener('click', function (e) {
      if (!state.day || !state.slot) return showError({ key: 'need_slot' });
      if (needLast4()) return;
      var body = { day: state.day, slot: state.slot, phone_last4: last4() };
      guarded(e.currentTarget, function () { return O.api('POST', url + '/reschedule', body); },
        function (b) {
          booking = b;
          renderBooking(O.t('rescheduled_ok', { when: whenText(b) }));
        });
    });
  }

  /* ---- wiring ------------------------------------------------------------------------------- */

  document.addEventListener('click', function (e) {
    var target = e.target.closest('button');
    if (!target || target.disabled) return;
    if (target.dataset.day) pickDay(target.dataset.day);
    else if (target.dataset.slot) pickSlot(target.dataset.slot);
  });

  if (boot.mode === 'status') initStatus();
  else initBook();
})();
