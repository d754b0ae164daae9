/* The admin page's accounts: the 工作人员 tab's accounts (add, disable / enable, reset a
 * password), who is signed in now (end a session) and the record of account changes; the 设备
 * tab's device tokens (add, revoke, rotate). Admins only: the routes answer 403 to others, and
 * the page has these tables for admins only.
 *
 * Every change asks for a confirmation in the row itself (no browser dialog), then shows the
 * server's answer; a generated password or a new token is shown once, in the yellow box.
 * Live: account.* and device.* events (announced by admin.js as 'onestop:admin') redraw the
 * tab on show. Loaded after admin_common.js, before admin.js. Text only.
 */
(function () {
  'use strict';

  var O = window.Onestop;
  var isAdmin = O.boot.role === 'admin';
  var state = { users: [], sessions: [], audit: [], devices: [], confirm: null, visible: '' };

  function $(sel) { return document.querySelector(sel); }

  function td(text, cls) {
    return O.el('td', { text: text === null || text === undefined ? '' : text, className: cls || '' });
  }

  /* "2026-11-25T09:31:02+08:00" → "11-25 09:31" (hall time, as the server writes it). */
  function when(iso) {
    return typeof iso === 'string' && iso.length >= 16 ? iso.slice(5, 10) + ' ' + iso.slice(11, 16) : '—';
  }

  function role(r) { return O.t('role_' + r); }

  function secret(selector, text) {
    var box = $(selector);
    if (!box) return;
    box.textContent = text || '';
    box.hidden = !text;
  }

  function result(text, ok) {
    var box = $('#alert');
    box.textContent = text || '';
    box.className = ok ? 'alert ok' : 'alert';
    box.hidden = !text;
  }

  function button(text, cls, onClick) {
    var b = O.el('button', { text: text, className: cls, attrs: { type: 'button' } });
    b.addEventListener('click', onClick);
    return b;
  }

  /* An action that asks first, in its own cell: [停用] → 停用 王丽？… [确定] [取消]. */
  function actionCell(key, actions) {
    var cell = O.el('td', { className: 'actions' });
    var asking = state.confirm && state.confirm.key === key ? state.confirm : null;
    if (asking) {
      cell.appendChild(O.el('span', { className: 'ask', text: asking.question }));
      cell.appendChild(button(O.t('yes'), 'small danger confirm-yes', function () {
        state.confirm = null;
        asking.run();
      }));
      cell.appendChild(button(O.t('no'), 'small confirm-no', function () {
        state.confirm = null;
        render();
      }));
      return cell;
    }
    actions.forEach(function (a) {
      if (!a) return;
      cell.appendChild(button(a.label, 'small ' + a.cls, function () {
        if (!a.question) return a.run();
        state.confirm = { key: key, question: a.question, run: a.run };
        render();
      }));
    });
    return cell;
  }

  function act(method, url, done) {
    result('');
    secret('#user-secret', '');  // a password or token shown before may be dead after this
    secret('#device-secret', '');
    return O.api(method, url).then(function (data) {
      done(data);
      load(state.visible);
    }, function (err) {
      result(O.errorText(err));
      render();
    });
  }

  /* ---- 工作人员: accounts, sessions, the record --------------------------------------------- */

  function renderUsers() {
    var body = $('#users tbody');
    if (!body) return;
    var me = state.sessions.find(function (s) { return s.current; });
    body.replaceChildren.apply(body, state.users.map(function (u) {
      var self = me && me.user_id === u.id;
      var name = u.name + '（' + u.username + '）';
      var status = O.el('td', {}, [O.el('span', {
        className: u.active ? 'badge' : 'badge off',
        text: O.t(u.active ? 'account_active' : 'account_disabled') })]);
      var actions = self ? td(O.t('account_self'), 'muted') : actionCell('user:' + u.id, [
        u.active ? { label: O.t('disable'), cls: 'disable', question: O.t('confirm_disable', { name: name }),
                     run: function () {
                       act('POST', '/api/admin/users/' + u.id + '/disable', function (d) {
                         result(O.t('disabled_ok', { name: name, n: d.sessions_ended }), true);
                       });
                     } }
                 : { label: O.t('enable'), cls: 'enable', run: function () {
                       act('POST', '/api/admin/users/' + u.id + '/enable', function () {
                         result(O.t('enabled_ok', { name: name }), true);
                       });
                     } },
        { label: O.t('reset_password'), cls: 'reset', question: O.t('confirm_reset', { name: name }),
          run: function () {
            act('POST', '/api/admin/users/' + u.id + '/password', function (d) {
              secret('#user-secret', O.t('reset_ok', { name: name, password: d.password,
                                                       n: d.sessions_ended }));
            });
          } }
      ]);
      return O.el('tr', { className: u.active ? '' : 'disabled',
                          dataset: { user: u.username, active: u.active } }, [
        td(u.username), td(u.name), td(role(u.role)), td(u.counters.join(', ')),
        status, td(u.sessions ? O.t('sessions_count', { n: u.sessions }) : '—'),
        td(when(u.password_changed_at), 'muted'), actions
      ]);
    }));
  }

  function agent(text) {
    if (!text) return '—';
    var m = /(Chrome|Firefox|Edg|Safari|python-httpx|curl)\/[\d.]+/.exec(text);
    return m ? m[0] : text.slice(0, 24);
  }

  function renderSessions() {
    var body = $('#sessions tbody');
    if (!body) return;
    if (!state.sessions.length) {
      body.replaceChildren(O.el('tr', {}, [O.el('td', { text: O.t('no_sessions'), className: 'muted',
                                                         attrs: { colspan: 7 } })]));
      return;
    }
    body.replaceChildren.apply(body, state.sessions.map(function (s) {
      var name = s.name + '（' + s.username + '）';
      var actions = s.current ? td(O.t('session_current'), 'muted') : actionCell('session:' + s.id, [{
        label: O.t('end_session'), cls: 'end', question: O.t('confirm_end', { name: name }),
        run: function () {
          act('DELETE', '/api/admin/sessions/' + s.id, function () {
            result(O.t('ended_ok', { name: name }), true);
          });
        } }]);
      return O.el('tr', { dataset: { session: s.id, user: s.username } }, [
        td(name), td(when(s.created_at)), td(when(s.last_seen_at)), td(s.address || '—'),
        O.el('td', { text: agent(s.user_agent), attrs: { title: s.user_agent || '' } }),
        td(s.counter ? s.counter + '号窗口' : '—'), actions
      ]);
    }));
  }

  function renderAudit() {
    var body = $('#audit tbody');
    if (!body) return;
    if (!state.audit.length) {
      body.replaceChildren(O.el('tr', {}, [O.el('td', { text: O.t('no_audit'), className: 'muted',
                                                         attrs: { colspan: 4 } })]));
      return;
    }
    body.replaceChildren.apply(body, state.audit.map(function (e) {
      var staff = e.staff || {};
      var what = staff.user ? (staff.name || staff.user) + '（' + staff.user + '）' : (staff.device || '');
      var ended = (staff.sessions_ended || []).length;
      return O.el('tr', { dataset: { type: e.type } }, [
        td(when(e.at)),
        td(O.t('audit_' + e.type) + (ended ? O.t('audit_sessions', { n: ended }) : '')),
        td(what), td(e.actor ? e.actor.name : '')
      ]);
    }));
  }

  /* ---- 设备: device tokens -------------------------------------------------------------------- */

  function renderDevices() {
    var body = $('#devices tbody');
    if (!body) return;
    body.replaceChildren.apply(body, state.devices.map(function (d) {
      var status = O.el('td', {}, [O.el('span', {
        className: d.active ? 'badge' : 'badge off',
        text: O.t(d.active ? 'device_active' : 'device_revoked') })]);
      return O.el('tr', { className: d.active ? '' : 'disabled',
                          dataset: { device: d.name, active: d.active } }, [
        td(d.name), td(role(d.role)), td(d.kiosk || ''), status,
        td(when(d.rotated_at || d.created_at), 'muted'),
        actionCell('device:' + d.id, [
          d.active ? { label: O.t('revoke'), cls: 'revoke', question: O.t('confirm_revoke', { name: d.name }),
                       run: function () {
                         act('POST', '/api/admin/devices/' + d.id + '/revoke', function () {
                           result(O.t('revoked_ok', { name: d.name }), true);
                         });
                       } } : null,
          { label: O.t('rotate'), cls: 'rotate', question: O.t('confirm_rotate', { name: d.name }),
            run: function () {
              act('POST', '/api/admin/devices/' + d.id + '/rotate', function (r) {
                secret('#device-secret', O.t('rotated_ok', { name: d.name, url: r.enrol_url }));
              });
            } }
        ])
      ]);
    }));
  }

  function render() {
    renderUsers();
    renderSessions();
    renderAudit();
    renderDevices();
  }

  /* ---- loading ------------------------------------------------------------------------------ */

  function load(tab) {
    if (!isAdmin) return;
    var calls = tab === 'devices' ? [O.api('GET', '/api/admin/devices')]
      : [O.api('GET', '/api/admin/users'), O.api('GET', '/api/admin/sessions'),
         O.api('GET', '/api/admin/audit?limit=30')];
    Promise.all(calls).then(function (r) {
      if (tab === 'devices') {
        state.devices = r[0];
      } else {
        state.users = r[0];
        state.sessions = r[1];
        state.audit = r[2].events;
      }
      render();
    }, function (err) { result(O.errorText(err)); });
  }

  /* The forms that add an account or a device: the password or the token is shown once. */
  var userForm = $('#user-form');
  if (userForm) {
    userForm.addEventListener('submit', function (event) {
      event.preventDefault();
      var f = event.target;
      var counters = f.counters.value.split(/[ ,]+/).filter(Boolean).map(Number);
      O.api('POST', '/api/admin/users', {
        username: f.username.value, name: f.name.value, role: f.role.value, counters: counters,
      }).then(function (u) {
        secret('#user-secret', O.t('added_ok', { name: u.username, password: u.password }));
        f.reset();
        load('staff');
      }, function (err) { result(O.errorText(err)); });
    });
  }
  var deviceForm = $('#device-form');
  if (deviceForm) {
    deviceForm.addEventListener('submit', function (event) {
      event.preventDefault();
      var f = event.target;
      O.api('POST', '/api/admin/devices', {
        name: f.name.value, role: f.role.value, kiosk: f.kiosk.value || null,
      }).then(function (d) {
        secret('#device-secret', O.t('device_added_ok', { url: d.enrol_url }));
        f.reset();
        load('devices');
      }, function (err) { result(O.errorText(err)); });
    });
  }

  document.querySelectorAll('#tabs button').forEach(function (b) {
    b.addEventListener('click', function () {
      var tab = b.getAttribute('data-tab');
      state.visible = tab === 'staff' || tab === 'devices' ? tab : '';
      state.confirm = null;
      secret('#user-secret', '');
      secret('#device-secret', '');
      if (state.visible) load(state.visible);
    });
  });

  document.addEventListener('onestop:admin', function (e) {
    var event = (e.detail && e.detail.event) || {};
    if (!state.visible || typeof event.type !== 'string') return;
    if (/^(account\.|device\.(added|revoked|rotated)$)/.test(event.type) && !state.confirm) {
      load(state.visible);
    }
  });

  /* For tests and diagnostics. */
  window.OnestopAdminAccounts = { state: state, load: load };
})();
