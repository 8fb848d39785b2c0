// One-round-trip accessibility snapshot: walks the DOM in order, emits lines of visible text
// with actionable elements inline as `[ref] role "name"`, and stamps data-agentsafe-ref on them.
// Elements that already carry a ref keep it, so refs stay valid while the element lives.
(args) => {
  const ATTR = 'data-agentsafe-ref';
  const MAX_LINES = args.maxLines || 600;
  let seq = args.seq || 0;
  const lines = [];
  const elements = [];
  let cur = [];
  let prefix = '';
  const SKIP = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'HEAD', 'META', 'LINK', 'IFRAME', 'SVG']);
  const INPUT_ROLE = {checkbox: 'checkbox', radio: 'radio', submit: 'button', button: 'button',
    reset: 'button', image: 'button', range: 'slider', number: 'spinbutton', search: 'searchbox'};
  const clean = (s) => (s || '').replace(/\s+/g, ' ').trim();
  const flush = () => {
    const text = cur.join('').replace(/\s+/g, ' ').replace(/^[\s|]+|[\s|]+$/g, '');
    if (text) lines.push(prefix + text);
    cur = []; prefix = '';
  };
  const roleOf = (el) => {
    const r = el.getAttribute('role');
    if (r) return r;
    const tag = el.tagName;
    if (tag === 'A') return 'link';
    if (tag === 'BUTTON' || tag === 'SUMMARY') return 'button';
    if (tag === 'SELECT') return el.multiple ? 'listbox' : 'combobox';
    if (tag === 'TEXTAREA') return 'textbox';
    if (tag === 'INPUT') return INPUT_ROLE[(el.type || 'text').toLowerCase()] || 'textbox';
    return 'button';  // [onclick] and friends
  };
  const nameOf = (el, role) => {
    let n = el.getAttribute('aria-label');
    if (n) return clean(n);
    const lb = el.getAttribute('aria-labelledby');
    if (lb) {
      n = lb.split(/\s+/).map((id) => { const t = document.getElementById(id); return t ? t.innerText : ''; }).join(' ');
      if (clean(n)) return clean(n);
    }
    if (el.labels && el.labels.length) {
      n = Array.from(el.labels).map((l) => l.innerText).join(' ');
      if (clean(n)) return clean(n);
    }
    if (role === 'link' || role === 'button' || role === 'tab' || role === 'menuitem' || el.tagName === 'BUTTON') {
      n = clean(el.innerText);
      if (!n && el.tagName === 'INPUT') n = clean(el.value);
      if (!n) { const img = el.querySelector('img[alt]'); if (img) n = clean(img.alt); }
      if (n) return n;
    }
    return clean(el.getAttribute('placeholder') || el.getAttribute('title') || el.getAttribute('name') || '');
  };
  const isActionable = (el) => {
    const tag = el.tagName;
    if (tag === 'A') return el.hasAttribute('href');
    if (tag === 'INPUT') return (el.type || '').toLowerCase() !== 'hidden';
    if (tag === 'BUTTON' || tag === 'SELECT' || tag === 'TEXTAREA' || tag === 'SUMMARY') return true;
    const r = el.getAttribute('role');
    if (r && /^(button|link|checkbox|radio|tab|menuitem|option|switch|textbox|combobox)$/.test(r)) return true;
    return el.hasAttribute('onclick') || el.isContentEditable && el.getAttribute('contenteditable') !== null;
  };
  const emit = (el) => {
    let ref = el.getAttribute(ATTR);
    if (!ref) { ref = 'e' + (++seq); el.setAttribute(ATTR, ref); }
    const role = roleOf(el);
    const name = nameOf(el, role);
    const info = {ref, role, name, tag: el.tagName.toLowerCase()};
    let s = `[${ref}] ${role} "${name}"`;
    if (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA') {
      const t = (el.type || '').toLowerCase();
      if (t === 'checkbox' || t === 'radio') { info.checked = el.checked; if (el.checked) s += ' checked'; }
      else if (role !== 'button') {
        const v = t === 'password' && el.value ? '•'.repeat(Math.min(el.value.length, 8)) : el.value;
        info.value = el.value; s += ` value="${clean(v)}"`;
      }
    } else if (el.tagName === 'SELECT') {
      const opts = Array.from(el.options).map((o) => clean(o.text));
      const selected = el.selectedIndex >= 0 ? clean(el.options[el.selectedIndex].text) : '';
      info.value = selected; info.options = opts;
      s += ` value="${selected}" options=[${opts.join(', ')}]`;
    }
    if (el.disabled) { info.disabled = true; s += ' disabled'; }
    if (el.tagName === 'A') info.href = el.href;
    elements.push(info);
    cur.push(' ' + s + ' ');
  };
  const walk = (node) => {
    if (lines.length >= MAX_LINES) return;
    if (node.nodeType === 3) { cur.push(node.nodeValue); return; }
    if (node.nodeType !== 1) return;
    const el = node;
    if (SKIP.has(el.tagName.toUpperCase())) return;
    if (el.getAttribute('aria-hidden') === 'true') return;
    if (el.checkVisibility && !el.checkVisibility({visibilityProperty: true})) return;
    if (isActionable(el)) { emit(el); return; }
    const tag = el.tagName;
    if (tag === 'BR') { flush(); return; }
    const disp = getComputedStyle(el).display;
    const block = !disp.startsWith('inline') && disp !== 'contents' && disp !== 'table-cell';
    if (block) flush();
    if (/^H[1-6]$/.test(tag)) prefix = '#'.repeat(+tag[1]) + ' ';
    else if (tag === 'LI') prefix = '- ';
    else if (tag === 'DIALOG' || el.getAttribute('role') === 'dialog' || el.getAttribute('role') === 'alertdialog') {
      lines.push('[dialog] ' + clean(el.getAttribute('aria-label') || ''));
    } else if (el.getAttribute('role') === 'alert') prefix = '[alert] ';
    else if (tag === 'IMG' && el.alt) cur.push(` [image: ${clean(el.alt)}] `);
    for (const child of el.childNodes) walk(child);
    if (disp === 'table-cell') cur.push(' | ');
    if (block) flush();
  };
  if (document.body) walk(document.body);
  flush();
  const truncated = lines.length >= MAX_LINES;
  return {lines, elements, seq, truncated, title: document.title, url: location.href};
}
