// Extract an Android-like UI tree from the phone page: every on-screen element carrying
// data-cls, with its class, text, content-desc, hint, bounds and flags. When `assign` is true,
// each listed element gets data-ref=N so that actions can find it again.
(assign) => {
  const body = document.body;
  const vw = window.innerWidth, vh = window.innerHeight;
  const content = document.querySelector('.content');
  const crect = content ? content.getBoundingClientRect() : null;
  const nodes = [];
  if (assign) document.querySelectorAll('[data-ref]').forEach(e => e.removeAttribute('data-ref'));
  const norm = s => (s || '').replace(/\s+/g, ' ').trim();
  let n = 0;
  for (const el of document.querySelectorAll('[data-cls]')) {
    const r = el.getBoundingClientRect();
    if (r.width <= 0 || r.height <= 0) continue;
    if (r.bottom <= 0 || r.top >= vh || r.right <= 0 || r.left >= vw) continue;
    if (crect && content.contains(el) && (r.bottom <= crect.top + 1 || r.top >= crect.bottom - 1)) continue;
    const tag = el.tagName;
    const editable = tag === 'TEXTAREA' || (tag === 'INPUT' && !['checkbox', 'radio', 'hidden', 'submit'].includes(el.type));
    const checkable = el.type === 'checkbox' || el.getAttribute('role') === 'switch';
    const clickable = tag === 'A' || tag === 'BUTTON' || checkable || editable || el.hasAttribute('data-long');
    let text = el.dataset.text !== undefined ? el.dataset.text : (editable ? el.value : el.innerText);
    const node = {
      ref: String(++n), cls: el.dataset.cls, text: norm(text).slice(0, 600), desc: norm(el.dataset.desc),
      hint: editable ? norm(el.placeholder) : '',
      b: [Math.max(0, Math.round(r.left)), Math.max(0, Math.round(r.top)), Math.min(vw, Math.round(r.right)), Math.min(vh, Math.round(r.bottom))],
      click: clickable && !editable, edit: editable, long: el.hasAttribute('data-long'),
      checked: checkable ? (el.type === 'checkbox' ? el.checked : el.getAttribute('aria-checked') === 'true') : null,
      focused: document.activeElement === el,
      nav: (tag === 'A' && !!el.getAttribute('href')) || (tag === 'BUTTON' && !!el.form),
    };
    if (assign) el.setAttribute('data-ref', node.ref);
    nodes.push(node);
  }
  const scroll = content ? {top: Math.round(content.scrollTop), max: Math.round(content.scrollHeight - content.clientHeight)} : {top: 0, max: 0};
  return {pkg: body.dataset.pkg, screen: body.dataset.screen, ev: Number(body.dataset.ev || 0),
          eg: Number(body.dataset.eg || 0), alert: body.dataset.alert || '', scroll, nodes,
          path: location.pathname + location.search};
}
