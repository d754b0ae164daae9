/* The admin page's Today tab (今日): the day's kind, hours and phase, the lunch rotation, a swap
 * of two clerks' breaks, and the day report (with the extended-hours count).
 *
 * The lunch rotation (中午不关门、轮流就餐) is the server's: this page shows it as one row per
 * slot (the windows closed, who is on break, who sits where) and one row per clerk, and asks
 * POST /api/lunch/swap to trade two clerks' slots. A swap the server refuses (409, because some
 * item would have no open window) is shown with the server's words, which name the item.
 *
 * Loaded before admin.js, whose event stream announces each event ('onestop:admin'). Text only.
 */
(function () {
  'use strict';

  var O = window.Onestop;
  var D = window.OnestopDay;
  var boot = O.boot;
  var CAN_EDIT = boot.role === 'admin' || boot.role === 'supervisor';

  var state = { day: null, lunch: null, report: null, visible: false };

  function $(sel) { return document.querySelector(sel); }

  function row(body, cells) {
    var tr = document.createElement('tr');
    cells.forEach(function (c) {
      var td = document.createElement(c.th ? 'th' : 'td');
      td.textContent = c.text === null || c.text === undefined ? '' : String(c.text);
      if (c.cls) td.className = c.cls;
      tr.appendChild(td);
    });
    body.appendChild(tr);
    return tr;
  }

  function kv(selector, pairs) {
    var body = $(selector + ' tbody');
    body.replaceChildren();
    pairs.forEach(function (p) { row(body, [{ th: true, text: p[0] }, { text: p[1] }]); });
  }

  function hm(iso) { return iso ? D.hhmm(iso) : '—'; }

  /* ---- the day ------------------------------------------------------------------------------ */

  function hours(day) {
    if (!day.opens_at) return '不办公';
    var text = hm(day.opens_at) + '–' + hm(day.closes_at);
    if (day.early_open_at) text += '（' + hm(day.early_open_at) + ' 起提前取号）';
    return text;
  }

  function cutoffs(day) {
    var parts = [];
    var seen = {};
    Object.keys(day.issuing || {}).forEach(function (q) {
      var e = day.issuing[q];
      var text = e.open ? (e.until ? hm(e.until) + ' 截止取号' : '取号中') : (e.message || '已截止');
      if (!seen[text]) {
        seen[text] = true;
        parts.push(text);
      }
    });
    return parts.join('；') || '—';
  }

  function renderDay() {
    var day = state.day;
    if (!day) return;
    $('#day-phase').textContent = day.phase_label || day.phase || '';
    var pairs = [
      ['日期', day.day + ' · ' + (day.label || day.kind)],
      ['办公时间', hours(day)],
      ['当前阶段', (day.phase_label || day.phase) + (day.check_in_only ? '（仅预约签到）' : '')],
      ['取号', cutoffs(day)]
    ];
    var paused = D.pausedLines(day);
    pairs.push(['暂停窗口', paused.length ? paused.map(function (p) { return p.text; }).join('；') : '无']);
    if (day.next_open) {
      var n = day.next_open;
      pairs.push(['下次办公', n.day + ' ' + (n.label || '') + ' ' + hm(n.opens_at) + '–' + hm(n.closes_at)]);
    }
    kv('#day-summary', pairs);
    if (!state.lunch && day.lunch) renderLunch(day.lunch);
  }

  /* ---- lunch rotation ------------------------------------------------------------------------ */

  function windowName(number) { return D.windowName(state.day, Number(number)); }

  function clerkName(lunch, id) { return (lunch.clerks && lunch.clerks[id]) || id; }

  function renderLunch(lunch) {
    state.lunch = lunch;
    var slots = lunch.slots || [];
    var closedBySlot = slots.map(function () { return []; });
    Object.keys(lunch.closed || {}).forEach(function (w) {
      (lunch.closed[w] || []).forEach(function (i) { if (closedBySlot[i]) closedBySlot[i].push(Number(w)); });
    });
    var clerksBySlot = slots.map(function () { return []; });
    var clerkIds = Object.keys(lunch.breaks || {}).sort(function (a, b) {
      return (lunch.breaks[a] - lunch.breaks[b]) || clerkName(lunch, a).localeCompare(clerkName(lunch, b), 'zh');
    });
    clerkIds.forEach(function (id) {
      var i = lunch.breaks[id];
      if (clerksBySlot[i]) clerksBySlot[i].push(clerkName(lunch, id));
    });
    var body = $('#lunch-slots tbody');
    body.replaceChildren();
    slots.forEach(function (slot, i) {
      var seating = (lunch.seating && lunch.seating[i]) || {};
      var seats = Object.keys(seating).sort(function (a, b) { return a - b; }).map(function (w) {
        return windowName(w) + ' ' + clerkName(lunch, seating[w]);
      });
      var closed = closedBySlot[i].sort(function (a, b) { return a - b; }).map(windowName);
      var tr = row(body, [
        { text: slot.label || (hm(slot.start) + '-' + hm(slot.end)) },
        { text: closed.length ? closed.join('、') : '无' },
        { text: clerksBySlot[i].join('、') || '—' },
        { text: seats.join('；') || '—', cls: 'muted' }
      ]);
      tr.dataset.slot = String(i);
    });
    var clerks = $('#lunch-clerks tbody');
    clerks.replaceChildren();
    clerkIds.forEach(function (id) {
      var slot = slots[lunch.breaks[id]];
      var tr = row(clerks, [{ text: clerkName(lunch, id) + '（' + id + '）' },
                            { text: slot ? (slot.label || hm(slot.start) + '-' + hm(slot.end)) : '—' }]);
      tr.dataset.clerk = id;
    });
    window.OnestopAdmin.lunchProblem($('#lunch-problem'), lunch.problem);
    fillSwap(lunch, clerkIds);
  }

  function fillSwap(lunch, ids) {
    var form = $('#swap-form');
    form.hidden = !CAN_EDIT || !ids.length;
    ['a', 'b'].forEach(function (name, k) {
      var select = form.elements[name];
      var keep = select.value;
      select.replaceChildren();
      ids.forEach(function (id) {
        var slot = (lunch.slots || [])[lunch.breaks[id]];
        var option = document.createElement('option');
        option.value = id;
        option.textContent = clerkName(lunch, id) + ' · ' + (slot ? slot.label : '');
        select.appendChild(option);
      });
      if (keep && ids.indexOf(keep) !== -1) select.value = keep;
      else if (ids[k]) select.value = ids[k];
    });
  }

  function swapResult(text, ok) {
    var box = $('#swap-result');
    box.textContent = text;
    box.className = ok ? 'alert inline ok' : 'alert inline';
    box.hidden = !text;
  }

  $('#swap-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var form = event.target;
    var a = form.elements.a.value;
    var b = form.elements.b.value;
    if (!a || !b || a === b) {
      swapResult('请选择两位不同的工作人员');
      return;
    }
    var button = $('#swap-submit');
    button.disabled = true;
    O.api('POST', '/api/lunch/swap', { a: a, b: b }).then(function (lunch) {
      var names = state.lunch ? clerkName(state.lunch, a) + '、' + clerkName(state.lunch, b) : a + '、' + b;
      if (lunch && lunch.slots) renderLunch(lunch);
      swapResult('已对调 ' + names + ' 的轮休时段', true);
      watcher.refresh();
    }, function (err) {
      // 409 lunch_infeasible: the server's message names the item left without an open window.
      swapResult(err.status === 409 ? '未能对调：' + O.errorText(err) : O.errorText(err));
    }).finally(function () { button.disabled = false; });
  });

  function loadLunch() {
    return O.api('GET', '/api/lunch').then(function (lunch) {
      if (lunch) renderLunch(lunch);
    }, function () { /* the day's own lunch object is shown instead */ });
  }

  /* ---- day report ---------------------------------------------------------------------------- */

  function seconds(value) {
    if (value === null || value === undefined) return '—';
    var m = Math.round(value / 60);
    return m < 60 ? m + ' 分钟' : Math.floor(m / 60) + ' 小时 ' + (m % 60) + ' 分钟';
  }

  function renderReport(r) {
    state.report = r;
    var o = r.outcomes || {};
    var ap = r.appointments || {};
    var ext = r.extended_hours || {};
    kv('#day-report', [
      ['取号', r.issued],
      ['办结', r.served + '（即办件 ' + (o.on_the_spot || 0) + '，承诺件 ' + (o.committed || 0) +
        '，咨询件 ' + (o.consultation || 0) + '）'],
      ['延时服务办结', (ext.served || 0) + ' 件' +
        (ext.last_finished_at ? '，最后一件 ' + hm(ext.last_finished_at) + ' 办结' : '')],
      ['过号', r.no_show],
      ['取消', r.cancelled],
      ['绿色通道', r.green_channel],
      ['预约', '已预约 ' + (ap.booked || 0) + '，已签到 ' + (ap.checked_in || 0) + '，爽约 ' +
        (ap.no_show || 0) + '，取消 ' + (ap.cancelled || 0)],
      ['平均等候', seconds(r.average_wait_seconds)],
      ['平均办理', seconds(r.average_service_seconds)],
      ['仍在等候', r.waiting_left],
      ['开厅 / 闭厅', hm(r.opened_at) + ' / ' + hm(r.closed_at)]
    ]);
    var ext_row = $('#day-report tbody').children[2];
    if (ext_row) ext_row.dataset.key = 'extended_hours';
  }

  function loadReport() {
    var note = $('#report-note');
    return O.api('GET', '/api/reports/day').then(function (r) {
      note.hidden = true;
      if (r) renderReport(r);
    }, function (err) {
      note.textContent = O.errorText(err);
      note.hidden = false;
    });
  }

  /* ---- wiring -------------------------------------------------------------------------------- */

  var watcher = D.watch(function (day) {
    state.day = day;
    if (state.visible) renderDay();
  });

  function load() {
    renderDay();
    loadLunch();
    loadReport();
  }

  var tabButton = document.querySelector('#tabs button[data-tab="today"]');
  document.querySelectorAll('#tabs button').forEach(function (button) {
    button.addEventListener('click', function () {
      state.visible = button === tabButton;
      if (state.visible) {
        swapResult('');
        watcher.refresh();
        load();
      }
    });
  });

  var reportTimer = null;
  var lunchTimer = null;
  document.addEventListener('onestop:admin', function (e) {
    var event = (e.detail && e.detail.event) || {};
    // lunch.changed says only that the rotation (or why there is none) changed: read it again.
    // A roster change re-plans it too.
    if ((event.type === 'lunch.changed' || event.type === 'roster.changed') && state.visible && !lunchTimer) {
      lunchTimer = setTimeout(function () { lunchTimer = null; if (state.visible) loadLunch(); }, 300);
    }
    if (D.isDayEvent(event)) watcher.refresh();
    // Counts change with every ticket: re-read the report at most every few seconds.
    var type = typeof event.type === 'string' ? event.type : '';
    if (state.visible && !reportTimer && (type.indexOf('ticket.') === 0 || type.indexOf('day.') === 0)) {
      reportTimer = setTimeout(function () { reportTimer = null; if (state.visible) loadReport(); }, 3000);
    }
  });

  /* For tests and diagnostics. */
  window.OnestopAdminDay = { state: state, watcher: watcher };
})();
