// Search as you type: the results and facets follow the text without reloading the page.
(function () {
  const input = document.getElementById('search-main');
  const hits = document.getElementById('hits');
  const count = document.getElementById('result-count');
  if (!input || !hits) return;
  let seq = 0;
  let timer = null;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // `html` comes from meshbox: escaped text with <mark> around matching words. Rebuild it without innerHTML.
  function marked(html) {
    const span = el('span');
    const parts = html.split(/(<mark>|<\/mark>)/);
    let inMark = false;
    const decode = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
    for (const p of parts) {
      if (p === '<mark>') { inMark = true; continue; }
      if (p === '</mark>') { inMark = false; continue; }
      if (!p) continue;
      span.appendChild(inMark ? el('mark', null, decode(p)) : document.createTextNode(decode(p)));
    }
    return span;
  }

  function render(r) {
    count.textContent = r.total + (r.total === 1 ? ' product' : ' products') + ' · ' + r.took_ms + ' ms';
    hits.replaceChildren();
    for (const h of r.hits) {
      const li = el('li', 'hit');
      const a = el('a', 'title', h.title);
      a.href = h.url;
      li.append(a, ' ', el('code', null, h.key), ' ', el('span', 'pill status-' + h.health, h.health));
      if (h.compliance !== 'compliant') li.append(' ', el('span', 'pill status-failing', h.compliance));
      if (h.deprecated) li.append(' ', el('span', 'pill deprecated', 'deprecated'));
      if (h.owner) li.append(' ', el('span', 'muted', 'owner ' + h.owner));
      if (h.deprecated_elements && h.deprecated_elements.length) {
        const span = el('span', 'muted deprecated-elements', 'deprecated: ');
        h.deprecated_elements.forEach((e, i) => {
          if (i > 0) span.append(', ');
          span.append(el('code', null, e));
        });
        li.append(' ', span);
      }
      if (h.matched.length) {
        const ul = el('ul', 'why');
        for (const m of h.matched) {
          const item = el('li');
          item.append(el('span', 'field', m.field), ' ', marked(m.html));
          ul.appendChild(item);
        }
        li.appendChild(ul);
      }
      hits.appendChild(li);
    }
    const none = document.getElementById('no-hits');
    if (none) none.hidden = r.hits.length > 0;
  }

  function run() {
    const params = new URLSearchParams(new FormData(input.form));
    const mine = ++seq;
    fetch('/api/search?' + params.toString(), { headers: { 'Accept': 'application/json' } })
      .then((res) => res.json())
      .then((r) => {
        if (mine !== seq || !r.hits) return;
        render(r);
        history.replaceState(null, '', '/search?' + params.toString());
      })
      .catch(() => {});
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(run, 80);
  });
})();
