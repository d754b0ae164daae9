/* The admin page: live overview, notices, windows, catalogue, staff, devices. The Today (今日),
 * 在岗 and 号票 tabs are admin_day.js, admin_presence.js and admin_tickets.js, accounts and
 * device tokens admin_accounts.js; they follow this page's event stream through the
 * 'onestop:admin' events it announces.
 * Data only ever enters the page through textContent (cell()), never as HTML.
 */
(function () {
  'use strict';
  var O = window.Onestop;
  var boot = O.boot;
  var config = null;

  function $(sel) { return document.querySelector(sel); }

  function cell(row, text, cls) {
    var td = document.createElement('td');
    td.textContent = text === null || text === undefined ? '' : String(text);
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }

  function fillTable(selector, items, render) {
    var body = $(selector + ' tbody');
    body.replaceChildren();
    items.forEach(function (item) {
      var tr = document.createElement('tr');
      render(tr, item);
      body.appendChild(tr);
    });
  }

  function alertBox(text, ok) {
    var box = $('#alert');
    box.textContent = text;
    box.className = ok ? 'alert ok' : 'alert';
    box.hidden = !text;
  }

  function fail(err) { alertBox(O.errorText(err)); }

  /* ---- tabs --------------------------------------------------------------------------------- */
  var loaders = {};
  document.querySelectorAll('#tabs button').forEach(function (button) {
    button.addEventListener('click', function () {
      document.querySelectorAll('#tabs button').forEach(function (b) {
        b.classList.toggle('active', b === button);
      });
      var tab = button.getAttribute('data-tab');
      document.querySelectorAll('.tab').forEach(function (section) {
        section.hidden = section.id !== 'tab-' + tab;
      });
      alertBox('');
      if (loaders[tab]) loaders[tab]();
    });
  });

  function withConfig(fn) {
    if (config) return fn(config);
    O.api('GET', '/api/admin/config').then(function (data) { config = data; fn(data); }, fail);
  }

  function serviceName(id) {
    var s = config && config.services.find(function (x) { return x.id === id; });
    return s ? s.name : id;
  }

  /* ---- overview (live) ----------------------------------------------------------------------- */
  var A = window.OnestopAdmin;
  loaders.overview = function () {
    Promise.all([O.api('GET', '/api/counters'), O.api('GET', '/api/queues')]).then(function (r) {
      fillTable('#overview-windows', r[0], function (tr, c) {
        tr.dataset.window = String(c.number);
        tr.dataset.state = c.state;
        cell(tr, c.name);
        cell(tr, A.windowState(c), 'state-' + c.state);
        cell(tr, c.clerk_name || '—', c.clerk_name ? '' : 'muted');
        var current = cell(tr, c.ticket ? '' : '—');
        if (c.ticket) {
          current.appendChild(A.ticketLink(c.ticket.number));
          current.appendChild(document.createTextNode(' ' + O.t('ticket_' + c.ticket.state)));
        }
        cell(tr, c.served_today);
      });
      fillTable('#overview-queues', r[1], function (tr, q) {
        cell(tr, q.prefix + ' ' + q.name);
        cell(tr, q.waiting);
        cell(tr, q.open_counters);
        cell(tr, Math.round(q.average_service_seconds / 60) + ' 分钟');
        cell(tr, O.fmtWait(q.estimated_wait_seconds));
      });
    }, fail);
  };
  var pending = null;
  var stream = new O.EventStream(function (event) {
    try {  // admin_day.js (the Today tab) follows the same stream
      document.dispatchEvent(new CustomEvent('onestop:admin', { detail: { event: event } }));
    } catch (e) {
      if (window.console) console.error(e);
    }
    if (pending) return;
    pending = setTimeout(function () {
      pending = null;
      if (!$('#tab-overview').hidden) loaders.overview();
    }, 300);
  }, function (connected) {
    var badge = $('#live');
    badge.textContent = connected ? '实时' : '连接中断，重连中';
    badge.className = connected ? 'badge' : 'badge off';
  });
  stream.start();

  /* ---- notices ------------------------------------------------------------------------------- */
  var notices = [];
  function localInput(iso) {
    if (!iso) return '';
    var d = new Date(iso);
    var pad = function (n) { return String(n).padStart(2, '0'); };
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' +
      pad(d.getHours()) + ':' + pad(d.getMinutes());
  }
  function isoFromInput(value) { return value ? new Date(value).toISOString() : null; }

  function editNotice(n) {
    var form = $('#notice-form');
    form.id.value = n ? n.id : '';
    form.title.value = n ? n.title : '';
    form.title_en.value = n ? (n.title_en || '') : '';
    form.body.value = n ? (n.body || '') : '';
    form.body_en.value = n ? (n.body_en || '') : '';
    form.starts_at.value = n ? localInput(n.starts_at) : '';
    form.ends_at.value = n ? localInput(n.ends_at) : '';
    form.active.checked = n ? !!n.active : true;
  }

  function saveOrder(ids) {
    O.api('POST', '/api/notices/order', { ids: ids }).then(loaders.notices, fail);
  }

  loaders.notices = function () {
    O.api('GET', '/api/notices?all=1').then(function (list) {
      notices = list;
      fillTable('#notices', list, function (tr, n) {
        cell(tr, n.position);
        cell(tr, n.title);
        cell(tr, (n.starts_at ? localInput(n.starts_at).replace('T', ' ') : '即时') + ' → ' +
          (n.ends_at ? localInput(n.ends_at).replace('T', ' ') : '长期'));
        cell(tr, n.active ? '启用' : '停用');
        var actions = cell(tr, '');
        [['编辑', function () { editNotice(n); }],
         ['上移', function () { move(n.id, -1); }],
         ['下移', function () { move(n.id, 1); }],
         ['删除', function () {
           if (window.confirm('删除公告“' + n.title + '”？')) {
             O.api('DELETE', '/api/notices/' + n.id).then(loaders.notices, fail);
           }
         }]].forEach(function (pair) {
          var b = document.createElement('button');
          b.type = 'button';
          b.className = 'small';
          b.textContent = pair[0];
          b.addEventListener('click', pair[1]);
          actions.appendChild(b);
        });
      });
    }, fail);
  };
  function move(id, delta) {
    var ids = notices.map(function (n) { return n.id; });
    var i = ids.indexOf(id);
    var j = i + delta;
    if (j < 0 || j >= ids.length) return;
    ids[i] = ids[j];
    ids[j] = id;
    saveOrder(ids);
  }
  $('#notice-reset').addEventListener('click', function () { editNotice(null); });
  $('#notice-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var form = event.target;
    var body = {
      title: form.title.value, title_en: form.title_en.value, body: form.body.value,
      body_en: form.body_en.value, starts_at: isoFromInput(form.starts_at.value),
      ends_at: isoFromInput(form.ends_at.value), active: form.active.checked,
    };
    var id = form.id.value;
    O.api(id ? 'PUT' : 'POST', id ? '/api/notices/' + id : '/api/notices', body).then(function () {
      alertBox('公告已保存', true);
      editNotice(null);
      loaders.notices();
    }, fail);
  });

  /* ---- windows and catalogue ----------------------------------------------------------------- */
  loaders.windows = function () {
    withConfig(function (c) {
      fillTable('#windows', c.counters, function (tr, w) {
        cell(tr, w.name);
        cell(tr, w.serves.map(serviceName).join('、'));
      });
    });
  };
  loaders.catalogue = function () {
    withConfig(function (c) {
      fillTable('#queues', c.queues, function (tr, q) {
        cell(tr, q.prefix);
        cell(tr, q.name + ' / ' + q.name_en);
        cell(tr, c.services.filter(function (s) { return s.queue === q.id; })
          .map(function (s) { return s.name; }).join('、'));
      });
      fillTable('#services', c.services, function (tr, s) {
        cell(tr, s.name + ' / ' + s.name_en);
        cell(tr, s.queue);
        cell(tr, s.legal_days + ' / ' + s.committed_days);
        cell(tr, s.anywhere ? '是' : '否');
        cell(tr, s.materials.join('；'));
      });
    });
  };

  /* ---- staff and devices: the configured rota and the printers; accounts, sessions and device
   * tokens are admin_accounts.js ---------------------------------------------------------------- */
  loaders.staff = function () {
    withConfig(function (c) {
      fillTable('#clerks', c.clerks, function (tr, k) {
        cell(tr, k.id);
        cell(tr, k.name);
        cell(tr, k.counters.join(', '));
      });
    });
  };

  loaders.devices = function () {
    O.api('GET', '/api/health').then(function (h) {
      fillTable('#printers', h.printers, function (tr, p) {
        cell(tr, p.name + '（' + p.kiosk + '）');
        cell(tr, p.type);
        cell(tr, p.message, p.can_print ? 'state-open' : 'state-paused');
        cell(tr, p.printed + ' / ' + p.failed);
      });
    }, fail);
  };

  $('#logout').addEventListener('click', function () {
    O.api('POST', '/auth/logout').then(function () { location.href = '/login?next=/admin'; }, fail);
  });

  loaders.overview();
})();
