// Shared page behaviour: in-page confirm modals (<button data-open="id">) and Escape to close.
document.addEventListener('click', (ev) => {
  const opener = ev.target.closest('[data-open]');
  if (opener) { const m = document.getElementById(opener.dataset.open); if (m) m.hidden = false; }
  const closer = ev.target.closest('[data-close]');
  if (closer) { const m = closer.closest('.overlay'); if (m) m.hidden = true; }
});
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape') document.querySelectorAll('.overlay:not([hidden])').forEach((m) => { m.hidden = true; });
});
