// Progressive enhancement only; every page works without it. "Leave quickly": replace this page in the history (so
// Back does not return to it) and go to the neutral page; Escape pressed twice does the same.
(function () {
  'use strict';
  var link = document.querySelector('[data-leave-quickly]');
  if (!link) {
    return;
  }
  function leave(event) {
    if (event) {
      event.preventDefault();
    }
    document.body.style.display = 'none';
    window.location.replace(link.getAttribute('href'));
  }
  link.addEventListener('click', leave);
  var lastEscape = 0;
  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Escape') {
      return;
    }
    var now = Date.now();
    if (now - lastEscape < 1000) {
      leave();
    }
    lastEscape = now;
  });
  var summary = document.querySelector('.error-summary');
  if (summary) {
    summary.focus();
  }
})();
