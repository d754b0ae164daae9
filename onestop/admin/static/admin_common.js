/* What the admin page's tabs say the same way: a window's state in words, a ticket number that
 * opens its history (#ticket=B001, handled by admin_tickets.js), today's lunch problem as a
 * warning. Loaded first of the admin scripts. Text only.
 */
(function () {
  'use strict';

  var O = window.Onestop;

  /* 服务中 / 暂停：原因 / 暂无人员 */
  function windowState(w) {
    if (w.state === 'unstaffed') return O.t('window_unstaffed');
    if (w.state === 'paused') return O.t('window_paused', { reason: w.pause_reason || '' });
    return O.t('window_open');
  }

  /* A link to the ticket's history on the 号票 tab. */
  function ticketLink(number, label) {
    return O.el('a', { className: 'ticket-link', text: label || number,
                       attrs: { href: '#ticket=' + encodeURIComponent(number) },
                       dataset: { ticket: number } });
  }

  /* Show (or hide) why today has no lunch rotation in `box`. */
  function lunchProblem(box, problem) {
    if (!box) return;
    box.textContent = problem ? O.t('lunch_problem', { message: O.pickMessage(problem) }) : '';
    box.hidden = !problem;
  }

  window.OnestopAdmin = { windowState: windowState, ticketLink: ticketLink, lunchProblem: lunchProblem };
})();
