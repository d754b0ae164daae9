/* The hall screen's part of the hall's day: which windows are paused and where to go instead.
 *
 * During the lunch rotation (中午不关门、轮流就餐) and any other pause, residents waiting for a
 * closed window read "5号窗口 暂停服务，请到6号窗口" (the open window the server names as the
 * alternative; the pause reason when there is none). After the cut-off the phase is said too:
 * "延时服务中：取号已截止，正在办理剩余业务", "今日办理已结束", or the appointments-only line.
 *
 * Reads GET /api/day at load, every minute and after every counter.*, day.* and lunch.changed
 * event screen.js receives (the 'onestop:screen' DOM event). Text only, through textContent.
 */
(function () {
  'use strict';

  var D = window.OnestopDay;
  var state = { day: null, key: null };

  function $(id) { return document.getElementById(id); }

  function render() {
    var day = state.day;
    var phase = D.phaseLine(day);
    var paused = D.pausedLines(day);
    var key = phase + '\n' + JSON.stringify(paused);
    if (key === state.key) return;
    state.key = key;
    var phaseNode = $('day-phase');
    phaseNode.textContent = phase;
    phaseNode.hidden = !phase;
    var list = $('paused-windows');
    list.textContent = '';
    paused.forEach(function (line) {
      var li = document.createElement('li');
      li.textContent = line.text;
      li.dataset.counter = String(line.number);
      if (line.alternative !== null && line.alternative !== undefined) {
        li.dataset.alternative = String(line.alternative);
      }
      list.appendChild(li);
    });
    var show = !!phase || paused.length > 0;
    $('day-panel').hidden = !show;
    $('screen').classList.toggle('has-day', show);
    if (show && window.OnestopScreen && window.OnestopScreen.fit) window.OnestopScreen.fit(phaseNode);
  }

  var watcher = D.watch(function (day) {
    state.day = day;
    if (window.OnestopScreen && window.OnestopScreen.setOffset) {
      window.OnestopScreen.setOffset(watcher.offsetMs);
    }
    render();
  });

  document.addEventListener('onestop:screen', function (e) {
    var event = (e.detail && e.detail.event) || {};
    if (D.isDayEvent(event)) watcher.refresh();
  });

  /* For tests and diagnostics. */
  window.OnestopScreenDay = { state: state, watcher: watcher };
})();
