/* A ticket's status on the resident's phone (/t/<token>): live, without reloading.
 *
 * The page arrives rendered by the server. Afterwards it listens to the hall's event stream and
 * refetches GET /api/tickets/<token> (debounced) whenever something that can move this ticket
 * happens: a ticket event in its queue or about itself, or a window opening or pausing.
 */
(function () {
  'use strict';

  var O = window.Onestop;
  var boot = O.boot;
  var TOKEN = boot.token;
  O.ticketToken = TOKEN; // lets a private hall screen's event stream admit this ticket's holder
  var FINAL = { done: 'done_msg', no_show: 'no_show_msg', cancelled: 'cancelled_msg' };
  var DEBOUNCE_MS = 200;

  var ticket = boot.ticket;
  var updatedAt = new Date();
  var live = false;
  var gone = false;
  var stream = null;

  function $(id) { return document.getElementById(id); }

  /* Same rules as pages._counter_text. */
  function counterText(t) {
    if ((t.state !== 'called' && t.state !== 'serving') || t.counter === null || t.counter === undefined) {
      return '';
    }
    var names = boot.counters[String(t.counter)];
    var name = names ? O.pick(names, 'name') : (t.counter_name || String(t.counter));
    return O.t(t.state === 'called' ? 'go_to_window' : 'serving_at', { counter: name });
  }

  function render() {
    var t = ticket;
    $('st-number').textContent = t.number;
    $('st-service').textContent = O.pick(t, 'service_name');
    var badge = $('st-state');
    badge.textContent = O.t('state_' + t.state);
    badge.className = 'st-state st-state-' + t.state;
    $('st-green').hidden = t.priority !== 'green';
    var window_ = counterText(t);
    $('st-window').textContent = window_;
    $('st-window').hidden = !window_;
    $('st-stats').hidden = t.state !== 'waiting';
    $('st-ahead').textContent = O.t('persons', { n: t.people_ahead || 0 });
    $('st-wait').textContent = O.fmtWait(t.estimated_wait_seconds, 'wait_soon');
    var final = FINAL[t.state];
    $('st-final').hidden = !final;
    $('st-final').textContent = final ? O.t(final) : '';
    document.title = t.number + ' · ' + O.t('state_' + t.state) + ' · ' + O.pick(boot.hall, 'name');
    renderLive();
  }

  function renderLive() {
    var footer = $('st-live');
    if (gone) {
      footer.textContent = O.t('ticket_not_found');
      footer.className = 'st-live st-live-off';
      return;
    }
    var parts = [];
    if (!FINAL[ticket.state]) parts.push(live ? O.t('live') : O.t('reconnecting'));
    parts.push(O.t('updated_at', { time: O.timeOfDay(updatedAt) }));
    footer.textContent = parts.join(' · ');
    footer.className = 'st-live ' + (live || FINAL[ticket.state] ? 'st-live-on' : 'st-live-off');
  }

  var inFlight = false;
  var again = false;
  function refetch() {
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    O.api('GET', '/api/tickets/' + encodeURIComponent(TOKEN)).then(function (fresh) {
      ticket = fresh;
      updatedAt = new Date();
      render();
      if (FINAL[ticket.state] && stream) {
        stream.stop(); // nothing more will happen to this ticket
        stream = null;
      }
    }, function (err) {
      if (err.status === 404) {
        gone = true;
        if (stream) stream.stop();
        stream = null;
      }
      renderLive();
    }).finally(function () {
      inFlight = false;
      if (again) {
        again = false;
        schedule();
      }
    });
  }

  var timer = null;
  function schedule() {
    if (timer) clearTimeout(timer);
    timer = setTimeout(function () {
      timer = null;
      refetch();
    }, DEBOUNCE_MS);
  }

  function concernsUs(event) {
    var data = event.data || {};
    var other = data.ticket;
    if (!other) return true;
    if (other.id === ticket.id || other.queue === ticket.queue) return true;
    var transfer = data.transfer;
    return !!transfer && (transfer.from_queue === ticket.queue || transfer.to_queue === ticket.queue);
  }

  function onEvent(event) {
    if (event.type === 'snapshot') {
      schedule(); // (re)connected: we may have missed anything
    } else if (event.type.indexOf('ticket.') === 0) {
      if (event.type === 'ticket.printed' || event.type === 'ticket.print_failed') return;
      if (concernsUs(event)) schedule();
    } else if (event.type.indexOf('counter.') === 0) {
      schedule(); // open windows changed: so did the estimate
    }
  }

  function onStatus(connected) {
    live = connected;
    renderLive();
  }

  render();
  if (!FINAL[ticket.state]) {
    stream = new O.EventStream(onEvent, onStatus);
    stream.start();
  }
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && stream) {
      stream.kick();
      schedule();
    }
  });
})();
