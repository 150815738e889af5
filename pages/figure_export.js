// Figure export and the handout view's print button (pages/figure_export.py injects this into the main document).
// Every figure of the main area gets a small "PNG · SVG" line under it: plotly charts and Graphviz diagrams are
// serialised from their own SVG; formulas (KaTeX), rows of metrics and photos are drawn from their HTML (computed
// styles inlined) inside an SVG foreignObject. Web fonts the figure uses are embedded, so the file looks the same
// on another computer. PNG: the SVG drawn on a canvas at >= 2x. Independent of plotly's toolbar.
(() => {
  const CONFIG = window.__fxConfigNext;
  if (CONFIG) window.__fxConfig = CONFIG;
  if (window.__fxInstalled) { if (window.__fxScan) window.__fxScan(); return; }
  window.__fxInstalled = true;

  const XHTML = 'http://www.w3.org/1999/xhtml';
  const SVGNS = 'http://www.w3.org/2000/svg';
  const MIN_SCALE = 2, MAX_SIDE = 8192, PAD = 12;
  const cfg = () => window.__fxConfig || {png: 'PNG', svg: 'SVG', label: 'Export', failed: 'Export failed'};

  // ---- which figures are on the page -------------------------------------------------------------------
  const main = () => document.querySelector('[data-testid="stMain"]');
  const container = el => el.closest('[data-testid="stElementContainer"]');
  const isFigure = el => el.querySelector('[data-testid="stPlotlyChart"], [data-testid="stGraphVizChart"], '
                                          + '[data-testid="stImage"], .katex-display');

  function metricGroup(metric) {
    // a row of metrics (columns holding only metrics) is one figure; else the metric alone
    const row = metric.closest('[data-testid="stHorizontalBlock"]');
    if (row && !isFigure(row) && row.parentElement) return {host: row.parentElement, root: row};
    const ec = container(metric);
    return ec ? {host: ec, root: ec.querySelector('[data-testid="stMetric"]')} : null;
  }

  function figures() {
    const m = main();
    const found = new Map();  // host element -> {kind, root}
    if (!m) return found;
    const add = (host, kind, root) => { if (host && !found.has(host)) found.set(host, {kind, root}); };
    for (const c of m.querySelectorAll('[data-testid="stPlotlyChart"]'))
      if (c.querySelector('.main-svg')) add(container(c), 'plotly', c);
    for (const c of m.querySelectorAll('[data-testid="stGraphVizChart"]'))
      if (c.querySelector('svg')) add(container(c), 'graphviz', c);
    for (const c of m.querySelectorAll('[data-testid="stImage"] img')) {
      const ec = container(c);
      if (ec && !ec.closest('.st-key-fx_handout_bar')) add(ec, 'image', ec);
    }
    for (const c of m.querySelectorAll('.katex-display')) add(container(c), 'formula', container(c));
    for (const c of m.querySelectorAll('[data-testid="stMetric"]')) {
      const g = metricGroup(c);
      if (g) add(g.host, 'metrics', g.root);
    }
    // in the order of the page (the file names are numbered that way)
    return new Map([...found].sort(([a], [b]) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1)));
  }

  // ---- the control ---------------------------------------------------------------------------------------
  function makeBar(kind) {
    const bar = document.createElement('div');
    bar.className = 'fx-bar';
    bar.dataset.fxKind = kind;
    bar.setAttribute('role', 'group');
    const formats = kind === 'image' ? ['png'] : ['png', 'svg'];
    for (const [i, format] of formats.entries()) {
      if (i) { const dot = document.createElement('span'); dot.textContent = '·'; dot.setAttribute('aria-hidden', 'true');
               bar.appendChild(dot); }
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'fx-btn';
      b.dataset.fx = format;
      bar.appendChild(b);
    }
    label(bar);
    return bar;
  }

  function label(bar) {
    const c = cfg();
    bar.setAttribute('aria-label', c.label);
    bar.title = c.label;
    for (const b of bar.querySelectorAll('.fx-btn')) {
      const text = c[b.dataset.fx];
      if (b.textContent !== text && !b.dataset.fxBusy) b.textContent = text;
      b.setAttribute('aria-label', `${c.label}: ${text}`);
    }
  }

  function scan() {
    const wanted = figures();
    for (const bar of document.querySelectorAll('.fx-bar')) {
      const fig = wanted.get(bar.parentElement);
      if (!fig || fig.kind !== bar.dataset.fxKind) bar.remove();
    }
    for (const [host, fig] of wanted) {
      let bar = [...host.children].find(e => e.classList.contains('fx-bar'));
      if (!bar) { bar = makeBar(fig.kind); host.appendChild(bar); }
      else {
        label(bar);
        if (host.lastElementChild !== bar) host.appendChild(bar);  // React added the figure after it: below again
      }
    }
  }
  window.__fxScan = scan;

  let pending = false;
  const later = () => { if (!pending) { pending = true; setTimeout(() => { pending = false; scan(); }, 120); } };
  new MutationObserver(mutations => {
    if (mutations.every(m => m.target.closest && m.target.closest('.fx-bar'))) return;
    later();
  }).observe(document.body, {childList: true, subtree: true});
  scan();

  // ---- serialising ---------------------------------------------------------------------------------------
  const dataUrls = new Map();  // url -> Promise of a data: URL
  function asDataUrl(url) {
    if (!url || url.startsWith('data:')) return Promise.resolve(url);
    const absolute = new URL(url, location.href).href;
    if (!dataUrls.has(absolute)) {
      dataUrls.set(absolute, fetch(absolute).then(r => {
        if (!r.ok) throw new Error(`${r.status} ${absolute}`);
        return r.blob();
      }).then(blob => new Promise((resolve, reject) => {
        const reader = new FileReader();
        reader.onload = () => resolve(reader.result);
        reader.onerror = () => reject(reader.error);
        reader.readAsDataURL(blob);
      })));
    }
    return dataUrls.get(absolute);
  }

  const unquote = s => s.trim().replace(/^["']|["']$/g, '');
  const firstFamily = value => unquote((value || '').split(',')[0] || '');

  function fontFaces() {
    const out = [];
    const walk = rules => {
      for (const rule of rules) {
        if (rule instanceof CSSFontFaceRule) out.push(rule);
        else if (rule.cssRules) { try { walk(rule.cssRules); } catch (e) { /* cross-origin */ } }
      }
    };
    for (const sheet of document.styleSheets) { try { walk(sheet.cssRules); } catch (e) { /* cross-origin */ } }
    return out;
  }

  function weightMatches(range, weight) {
    const parts = (range || '400').split(/\s+/).map(w => w === 'normal' ? 400 : w === 'bold' ? 700 : parseFloat(w));
    if (parts.length > 1) return weight >= parts[0] && weight <= parts[1];
    return Math.abs(parts[0] - weight) < 1 || Number.isNaN(parts[0]);
  }

  // @font-face rules (with the font files as data: URLs) for the web fonts the elements under `roots` use
  async function embeddedFonts(roots) {
    const used = new Set();
    for (const root of roots) {
      for (const el of [root, ...root.querySelectorAll('*')]) {
        const s = getComputedStyle(el);
        for (const fam of s.fontFamily.split(',')) used.add(`${unquote(fam).toLowerCase()}|${parseFloat(s.fontWeight) || 400}|${s.fontStyle}`);
      }
    }
    const css = [];
    for (const rule of fontFaces()) {
      const s = rule.style;
      const family = unquote(s.getPropertyValue('font-family')).toLowerCase();
      const style = s.getPropertyValue('font-style') || 'normal';
      const weight = s.getPropertyValue('font-weight') || '400';
      const wanted = [...used].some(key => {
        const [f, w, st] = key.split('|');
        return f === family && (st === style || (st !== 'normal') === (style !== 'normal')) && weightMatches(weight, +w);
      });
      if (!wanted) continue;
      const src = s.getPropertyValue('src');
      const match = /url\(\s*["']?([^"')]+)["']?\s*\)\s*(format\(\s*["']?([^"')]+)["']?\s*\))?/.exec(src);
      if (!match) continue;
      try {
        const data = await asDataUrl(new URL(match[1], rule.parentStyleSheet.href || location.href).href);
        css.push(`@font-face{font-family:"${unquote(s.getPropertyValue('font-family'))}";font-style:${style};`
                 + `font-weight:${weight};src:url(${data})${match[3] ? ` format("${match[3]}")` : ''};}`);
      } catch (e) { console.warn('figure export: font not embedded', e); }
    }
    return css.join('\n');
  }

  async function inlineImages(root) {
    const jobs = [];
    for (const img of root.querySelectorAll('img')) jobs.push(asDataUrl(img.getAttribute('src')).then(u => img.setAttribute('src', u)));
    for (const img of root.querySelectorAll('image')) {
      const attr = img.hasAttribute('href') ? 'href' : 'xlink:href';
      const value = img.getAttribute(attr) || img.getAttributeNS('http://www.w3.org/1999/xlink', 'href');
      if (value) jobs.push(asDataUrl(value).then(u => img.setAttribute('href', u)));
    }
    await Promise.all(jobs);
  }

  // -- plotly and Graphviz: their own SVG
  function plotlySvg(chart) {
    const layers = [...chart.querySelectorAll('.svg-container > svg.main-svg')];
    const first = layers[0];
    const box = first.getBoundingClientRect();
    const root = first.cloneNode(true);
    for (const layer of layers.slice(1)) {
      const g = document.createElementNS(SVGNS, 'g');
      for (const child of layer.childNodes) g.appendChild(child.cloneNode(true));
      root.appendChild(g);
    }
    root.querySelectorAll('.hoverlayer, .zoomlayer, .draglayer, .selectionlayer, .select-outline, .menulayer')
      .forEach(e => e.remove());
    return {root, width: box.width, height: box.height, background: first.style.background || '#ffffff'};
  }

  function graphvizSvg(chart) {
    const svg = chart.querySelector('svg');
    const box = svg.getBoundingClientRect();
    const root = svg.cloneNode(true);
    // the page's styles may draw the labels in another font than the diagram's attribute says: keep what is shown
    const shown = [...svg.querySelectorAll('text')], copies = [...root.querySelectorAll('text')];
    shown.forEach((text, i) => { const s = getComputedStyle(text);
      copies[i].setAttribute('style', `font-family:${s.fontFamily};font-size:${s.fontSize};font-weight:${s.fontWeight}`); });
    return {root, width: box.width, height: box.height, background: '#ffffff'};
  }

  function finishSvg({root, width, height, background}, title, fonts) {
    root.setAttribute('xmlns', SVGNS);
    root.setAttribute('xmlns:xlink', 'http://www.w3.org/1999/xlink');
    if (!root.getAttribute('viewBox')) root.setAttribute('viewBox', `0 0 ${width} ${height}`);
    root.setAttribute('width', `${width}`);
    root.setAttribute('height', `${height}`);
    root.removeAttribute('style');
    root.removeAttribute('class');
    const bg = document.createElementNS(SVGNS, 'rect');
    const vb = root.getAttribute('viewBox').split(/[\s,]+/).map(Number);
    bg.setAttribute('x', vb[0]); bg.setAttribute('y', vb[1]); bg.setAttribute('width', vb[2]); bg.setAttribute('height', vb[3]);
    bg.setAttribute('fill', background);
    const t = document.createElementNS(SVGNS, 'title');
    t.textContent = title;
    const style = document.createElementNS(SVGNS, 'style');
    style.textContent = fonts;
    root.insertBefore(bg, root.firstChild);
    root.insertBefore(style, root.firstChild);
    root.insertBefore(t, root.firstChild);
    return root;
  }

  // -- HTML figures (formulas, metrics, photos): computed styles inlined, inside a foreignObject
  const INHERITED = ['color', 'font-family', 'font-size', 'font-style', 'font-weight', 'font-variant', 'line-height',
    'letter-spacing', 'text-align', 'white-space', 'word-break', 'overflow-wrap', 'text-transform', 'direction',
    'visibility', 'font-feature-settings', 'text-indent'];
  const OWN = ['display', 'position', 'top', 'right', 'bottom', 'left', 'margin-top', 'margin-right', 'margin-bottom',
    'margin-left', 'padding-top', 'padding-right', 'padding-bottom', 'padding-left', 'border-top-width',
    'border-top-style', 'border-top-color', 'border-right-width', 'border-right-style', 'border-right-color',
    'border-bottom-width', 'border-bottom-style', 'border-bottom-color', 'border-left-width', 'border-left-style',
    'border-left-color', 'border-radius', 'box-sizing', 'vertical-align', 'background-color', 'text-decoration-line',
    'flex-direction', 'flex-wrap', 'justify-content', 'align-items', 'align-self', 'gap', 'flex-grow', 'flex-shrink',
    'flex-basis', 'transform', 'opacity', 'min-width', 'max-width', 'min-height', 'object-fit', 'fill', 'stroke',
    'overflow-x', 'overflow-y', 'text-overflow', 'table-layout', 'border-collapse', 'clip'];
  const defaults = new Map();
  function defaultStyle(tag) {
    if (!defaults.has(tag)) {
      const frame = document.createElement(tag);
      const holder = document.createElement('div');
      holder.style.cssText = 'position:fixed;left:-99999px;top:0;visibility:hidden';
      holder.appendChild(frame);
      document.body.appendChild(holder);
      const s = getComputedStyle(frame), d = {};
      for (const p of OWN) d[p] = s.getPropertyValue(p);
      holder.remove();
      defaults.set(tag, d);
    }
    return defaults.get(tag);
  }

  function styledClone(el, parentStyle, isRoot) {
    if (el.nodeType === Node.TEXT_NODE) return el.cloneNode(false);
    if (el.nodeType !== Node.ELEMENT_NODE) return null;
    if (el.classList.contains('fx-bar') || el.classList.contains('katex-mathml')
        || (el.matches('button, [data-testid="stTooltipIcon"], [data-testid="stTooltipHoverTarget"] svg') && !isRoot)) return null;
    const s = getComputedStyle(el);
    if (s.display === 'none') return null;
    const copy = el.cloneNode(false);
    copy.removeAttribute('class'); copy.removeAttribute('id');
    if (el instanceof SVGElement) {
      for (const child of el.childNodes) copy.appendChild(child.cloneNode(true));
      const box = el.getBoundingClientRect();
      copy.setAttribute('width', box.width); copy.setAttribute('height', box.height);
      return copy;
    }
    const d = defaultStyle(el.tagName.toLowerCase());
    const decl = [];
    for (const p of INHERITED) {
      const v = s.getPropertyValue(p);
      if (isRoot || !parentStyle || parentStyle[p] !== v) decl.push(`${p}:${v}`);
    }
    for (const p of OWN) {
      const v = s.getPropertyValue(p);
      if (v !== d[p]) decl.push(`${p}:${v}`);
    }
    if (el.tagName === 'IMG' || isRoot) {
      const box = el.getBoundingClientRect();
      decl.push(`width:${box.width}px`, `height:${box.height}px`);
    } else if (s.display !== 'inline') {  // the used size (KaTeX's fraction and root rows depend on it)
      decl.push(`width:${s.width}`, `height:${s.height}`);
    }
    const own = el.getAttribute('style');
    copy.setAttribute('style', decl.join(';') + (own && !isRoot ? `;${own}` : ''));
    const mine = {};
    for (const p of INHERITED) mine[p] = s.getPropertyValue(p);
    for (const child of el.childNodes) {
      const c = styledClone(child, mine, false);
      if (c) copy.appendChild(c);
    }
    return copy;
  }

  async function htmlSvg(kind, root) {
    let parts;
    if (kind === 'formula') parts = [...root.querySelectorAll('.katex-display')];
    else if (kind === 'image') parts = [...root.querySelectorAll('[data-testid="stImage"]')];
    else parts = [root];
    const wrap = document.createElementNS(XHTML, 'div');
    const bg = getComputedStyle(document.querySelector('[data-testid="stApp"]') || document.body).backgroundColor;
    wrap.setAttribute('style', `display:inline-block;padding:${PAD}px;background:${bg};`
                      + (kind === 'image' ? 'display:inline-flex;flex-wrap:wrap;gap:8px;' : ''));
    let width = 0;
    for (const part of parts) {
      let clone;
      if (kind === 'formula') {
        const katex = part.querySelector('.katex-html') || part;
        const range = document.createRange(); range.selectNodeContents(katex);
        const box = range.getBoundingClientRect();
        clone = styledClone(katex, null, true);
        clone.setAttribute('style', clone.getAttribute('style').replace(/(^|;)width:[^;]*;height:[^;]*$/, '')
                           + ';display:block;text-align:left;white-space:nowrap');
        width = Math.max(width, box.width + 2);
        clone.style.width = `${Math.ceil(box.width + 2)}px`;
      } else {
        clone = styledClone(part, null, true);
      }
      wrap.appendChild(clone);
    }
    await inlineImages(wrap);
    // measure it as it will be drawn
    const holder = document.createElement('div');
    holder.style.cssText = 'position:fixed;left:-99999px;top:0;';
    holder.appendChild(wrap);
    document.body.appendChild(holder);
    const box = wrap.getBoundingClientRect();
    holder.remove();
    const w = Math.ceil(box.width), h = Math.ceil(box.height);
    const svg = document.createElementNS(SVGNS, 'svg');
    svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
    const fo = document.createElementNS(SVGNS, 'foreignObject');
    fo.setAttribute('x', 0); fo.setAttribute('y', 0); fo.setAttribute('width', w); fo.setAttribute('height', h);
    fo.appendChild(wrap);
    svg.appendChild(fo);
    return {root: svg, width: w, height: h, background: bg};
  }

  // ---- naming --------------------------------------------------------------------------------------------
  const slug = text => (text || '').normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '-')
    .replace(/^-+|-+$/g, '').slice(0, 48).replace(/-+$/, '');
  function figureTitle(kind, fig) {
    const text = sel => { const e = fig.root.querySelector(sel); return e ? e.textContent.trim() : ''; };
    if (kind === 'plotly') return text('.gtitle') || text('.annotation-text') || text('.g-ytitle') || text('.g-xtitle') || 'chart';
    if (kind === 'graphviz') return text('svg > g > title') || 'diagram';
    if (kind === 'metrics') return text('[data-testid="stMetricLabel"]') || 'metrics';
    if (kind === 'image') return text('[data-testid="stImageCaption"]') || text('[data-testid="caption"]') || 'image';
    return 'formula';
  }
  function fileName(host, kind, fig, ext) {
    const page = slug(location.pathname.split('/').filter(Boolean).pop() || 'home') || 'home';
    const all = [...figures().keys()];
    const n = String(all.indexOf(host) + 1).padStart(2, '0');
    return `${page}-${n}-${slug(figureTitle(kind, fig)) || kind}.${ext}`;
  }

  // ---- export --------------------------------------------------------------------------------------------
  async function svgOf(host) {
    const fig = figures().get(host);
    if (!fig) throw new Error('the figure is gone');
    let parts;
    if (fig.kind === 'plotly') parts = plotlySvg(fig.root);
    else if (fig.kind === 'graphviz') parts = graphvizSvg(fig.root);
    else parts = await htmlSvg(fig.kind, fig.root);
    const drawn = fig.kind === 'formula' ? [...fig.root.querySelectorAll('.katex-html')]
      : fig.kind === 'plotly' || fig.kind === 'graphviz' ? [...fig.root.querySelectorAll('svg text')] : [fig.root];
    const fonts = await embeddedFonts(drawn);
    await inlineImages(parts.root);
    const title = figureTitle(fig.kind, fig);
    const root = finishSvg(parts, title, fonts);
    const text = '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(root);
    return {fig, text, width: parts.width, height: parts.height, background: parts.background};
  }

  function save(blob, name) {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    a.style.display = 'none';
    document.body.appendChild(a);
    a.click();
    setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 60000);
  }

  async function png({text, width, height, background, fig}) {
    const img = new Image();
    img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(text);
    await img.decode();
    let scale = Math.max(MIN_SCALE, window.devicePixelRatio || 1);
    if (fig.kind === 'image') {  // a photo: keep its own pixels
      for (const i of fig.root.querySelectorAll('img')) {
        const b = i.getBoundingClientRect();
        if (b.width > 0) scale = Math.max(scale, i.naturalWidth / b.width);
      }
    }
    scale = Math.min(scale, MAX_SIDE / Math.max(width, height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = background || '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    return new Promise((resolve, reject) => canvas.toBlob(b => b ? resolve(b) : reject(new Error('no PNG')), 'image/png'));
  }

  async function exportFigure(button) {
    const bar = button.closest('.fx-bar');
    const host = bar.parentElement;
    const format = button.dataset.fx;
    button.dataset.fxBusy = '1';
    button.setAttribute('aria-busy', 'true');
    try {
      const svg = await svgOf(host);
      const name = fileName(host, svg.fig.kind, svg.fig, format);
      const blob = format === 'svg' ? new Blob([svg.text], {type: 'image/svg+xml'}) : await png(svg);
      save(blob, name);
      button.textContent = cfg()[format];
    } catch (error) {
      console.warn('figure export failed', error);
      button.textContent = cfg().failed;
      button.title = String(error && error.message || error);
    } finally {
      delete button.dataset.fxBusy;
      button.removeAttribute('aria-busy');
    }
  }

  document.addEventListener('click', event => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    const button = target.closest('.fx-bar .fx-btn');
    if (button) { event.preventDefault(); if (!button.dataset.fxBusy) exportFigure(button); return; }
    if (target.closest('.fx-print')) { event.preventDefault(); window.print(); }
  }, true);
})();
