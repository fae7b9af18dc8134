// Live progress of queued and running merges: polls each one's small JSON status every second and
// updates the row; reloads the page once a merge has ended so its outcome and links appear.
(function () {
  'use strict';
  var cells = document.querySelectorAll('[data-progress]');
  if (cells.length === 0) return;
  function poll() {
    var pending = 0;
    var ended = false;
    cells.forEach(function (cell) {
      pending++;
      fetch('/merges/' + encodeURIComponent(cell.dataset.progress) + '/progress', {credentials: 'same-origin'})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (s) {
            cell.querySelector('.state').textContent = s.state;
            cell.querySelector('progress').value = s.percent;
            cell.querySelector('.pct').textContent = s.percent + '%';
            if (s.state !== 'queued' && s.state !== 'running') ended = true;
          }
        })
        .catch(function () { /* keep polling */ })
        .finally(function () {
          if (--pending === 0) {
            if (ended) window.location.reload(); else setTimeout(poll, 1000);
          }
        });
    });
  }
  setTimeout(poll, 1000);
})();
