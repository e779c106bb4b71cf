// The SlideStream dashboard: a live slide feed, a slide viewer with overlays and similar-tile
// search, an errors page and a throughput/latency page, all on the service's JSON API.
'use strict';

const PALETTE = ['#e6194b', '#3cb44b', '#ffe119', '#4363d8', '#f58231', '#911eb4', '#46f0f0',
  '#f032e6', '#bcf60c', '#fabebe', '#008080', '#e6beff', '#9a6324', '#800000', '#000075'];

const state = { modelId: null, viewer: null, slide: null, tiles: [], detail: null, result: null, feedTimer: null };
window.dashboard = state;

// With serve.auth=token the API answers 401 until the browser holds a session: ask for the token
// once, trade it for the session cookie (HttpOnly: scripts never see it again), and retry. Behind
// an authenticating proxy the proxy's bearer header passes and no prompt appears.
let login = null;  // one prompt for all the requests that met a 401 together

function signIn() {
  if (!login) {
    login = (async () => {
      const token = window.prompt('This SlideStream asks for an access token:');
      if (!token) return false;
      const session = await fetch('/api/session', { method: 'POST', body: token, credentials: 'same-origin' });
      return session.ok;
    })().finally(() => setTimeout(() => { login = null; }, 0));
  }
  return login;
}

async function api(path, retried = false) {
  const response = await fetch(path, { credentials: 'same-origin' });
  if (response.status === 401 && !retried && await signIn()) {
    return api(path, true);
  }
  const body = await response.json();
  if (!response.ok) {
    throw new Error(body.error ? body.error.code + ': ' + body.error.message : response.statusText);
  }
  return body;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else if (k.startsWith('data-')) e.setAttribute(k, v); else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c ?? ''));
  return e;
}

function show(page) {
  document.querySelectorAll('.page').forEach(p => p.classList.toggle('active', p.id === page));
  document.querySelectorAll('nav a').forEach(a => a.classList.toggle('active', a.id === 'nav-' + page));
}

// ---- Feed ------------------------------------------------------------------------------------

async function loadFeed() {
  const status = document.getElementById('feed-status').value;
  const q = document.getElementById('feed-q').value;
  const params = new URLSearchParams({ page_size: '200' });
  if (status) params.set('status', status);
  if (q) params.set('q', q);
  const body = await api('/api/slides?' + params);
  document.getElementById('feed-total').textContent = body.total + ' slides';
  const rows = body.slides.map(s => {
    const progress = s.tile_count ? Math.round(100 * s.tiles_received / s.tile_count) : 0;
    const tr = el('tr', { 'data-slide-id': s.slide_id, 'data-status': s.status },
      el('td', {}, s.slide_id),
      el('td', {}, el('span', { class: 'status ' + s.status }, s.status)),
      el('td', {}, s.tile_count == null ? '' :
        el('span', { class: 'bar', title: s.tiles_received + ' / ' + s.tile_count + ' tiles' },
          Object.assign(el('span'), { style: 'width:' + progress + '%' }))),
      el('td', { title: s.head_id ? 'head ' + s.head_id : '' }, s.predicted_label ?? ''),
      el('td', {}, s.latency_ms == null ? '' : (s.latency_ms / 1000).toFixed(1) + ' s'),
      el('td', {}, new Date(s.time).toLocaleString()),
      el('td', { class: 'error-message' }, s.error_code ? s.error_code + ': ' + s.error_message : ''));
    tr.addEventListener('click', () => { location.hash = '#viewer/' + encodeURIComponent(s.slide_id); });
    return tr;
  });
  document.querySelector('#feed-table tbody').replaceChildren(...rows);
}

// ---- Viewer ----------------------------------------------------------------------------------

const OVERLAYS = [
  { id: 'tissue', label: 'Tissue mask', opacity: 0.35, on: false },
  { id: 'grid', label: 'Tile grid', opacity: 0.8, on: true },
  { id: 'classes', label: 'Tile-head classes', opacity: 0.45, on: true },
  { id: 'attention', label: 'ABMIL attention', opacity: 0.6, on: false },
];

function overlayControls() {
  const box = document.getElementById('overlay-controls');
  box.replaceChildren(...OVERLAYS.map(o => {
    const check = el('input', { type: 'checkbox', checked: o.on, 'data-overlay': o.id });
    const fade = el('input', { type: 'range', min: 0, max: 1, step: 0.05, value: o.opacity, 'data-fade': o.id });
    check.addEventListener('change', () => { o.on = check.checked; applyOverlayStyle(); });
    fade.addEventListener('input', () => { o.opacity = Number(fade.value); applyOverlayStyle(); });
    return el('div', { class: 'overlay-row' }, check, el('span', {}, o.label), fade);
  }));
}

function applyOverlayStyle() {
  for (const o of OVERLAYS) {
    const g = document.getElementById('layer-' + o.id);
    if (g) { g.style.display = o.on ? '' : 'none'; g.style.opacity = o.opacity; }
  }
}

function legend(classes) {
  const items = classes.map((label, i) => el('div', { class: 'legend-item', 'data-class': label },
    el('span', { class: 'swatch', style: 'background:' + PALETTE[i % PALETTE.length] }), label));
  document.getElementById('legend').replaceChildren(
    el('div', { class: 'legend-item' }, el('span', { class: 'swatch', style: 'background:#00c853' }), 'tissue fraction (mask)'),
    el('div', { class: 'legend-item' }, el('span', { class: 'swatch', style: 'border:2px solid #fff;background:#333' }), 'tile grid'),
    ...items,
    el('div', { class: 'legend-item' }, el('span', { class: 'gradient' }), 'attention, low to high'),
    el('div', { class: 'legend-item hint', id: 'attention-note' }));
}

// The heads that predicted for this slide's model, to choose whose prediction and attention show.
function showHeads(detail, result) {
  const select = document.getElementById('viewer-head');
  const heads = result ? detail.results.filter(r => r.model_id === result.model_id) : [];
  select.replaceChildren(...heads.map(r => el('option', { value: r.head_id ?? '' }, r.head_id || '(no head)')));
  select.disabled = heads.length < 2;
  select.onchange = () => {
    state.result = heads.find(r => (r.head_id ?? '') === select.value) ?? result;
    showPrediction(state.result);
    if (state.viewer && state.viewer.world.getItemCount()) {
      state.viewer.clearOverlays();
      const size = state.viewer.world.getItemAt(0).getContentSize();
      drawOverlays(size.x, size.y);
    }
  };
  showPrediction(result);
}

function showPrediction(result) {
  const p = result?.probabilities?.[result.predicted_class];
  document.getElementById('prediction').replaceChildren(result?.predicted_label == null
    ? el('span', { class: 'hint' }, 'no slide head')
    : el('span', { 'data-head': result.head_id }, result.predicted_label + (p == null ? '' : ' (p = ' + p.toFixed(2) + ')')));
}

function svgNode(tag, attrs) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function drawOverlays(width, height) {
  const svg = svgNode('svg', { id: 'tile-overlay', viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none' });
  svg.style.pointerEvents = 'none';
  const layers = {};
  for (const o of OVERLAYS) { layers[o.id] = svgNode('g', { id: 'layer-' + o.id }); svg.append(layers[o.id]); }
  // ABMIL attention of every tile (by tile index); results written before it was stored have only
  // the top tiles.
  // Scaled min to max, so the least attended tile is pale and the most attended full red; when
  // attention is nearly uniform the legend says so instead of painting every tile the same.
  const attention = new Map();
  const result = state.result;
  const all = result?.tile_attention ?? [];
  const raw = new Map();
  if (all.length) {
    state.tiles.forEach(t => { if (t.tile_index < all.length) raw.set(t.x + ',' + t.y, all[t.tile_index]); });
  } else {
    (result?.top_tiles ?? []).forEach(t => raw.set(t.x + ',' + t.y, t.attention));
  }
  const values = [...raw.values()];
  const lo = values.length ? Math.min(...values) : 0;
  const hi = values.length ? Math.max(...values) : 0;
  const uniform = values.length > 1 && hi - lo <= 0.05 * Math.max(hi, 1e-9);
  raw.forEach((v, k) => attention.set(k, hi > lo ? (v - lo) / (hi - lo) : 1));
  const note = document.getElementById('attention-note');
  if (note) {
    note.textContent = values.length
      ? (uniform ? 'attention nearly uniform: ' : 'attention ') + lo.toPrecision(2) + ' to ' + hi.toPrecision(2)
      : '';
    note.setAttribute('data-uniform', String(uniform));
  }
  for (const t of state.tiles) {
    const box = { x: t.x, y: t.y, width: t.extent_px, height: t.extent_px };
    layers.tissue.append(svgNode('rect', { ...box, class: 'tissue', fill: '#00c853', 'fill-opacity': t.tissue }));
    layers.grid.append(svgNode('rect', { ...box, class: 'tile', fill: 'none', stroke: '#ffffff',
      'stroke-width': t.extent_px / 64, 'data-x': t.x, 'data-y': t.y }));
    if (t.predicted_class >= 0) {
      layers.classes.append(svgNode('rect', { ...box, class: 'class-cell', 'data-class': t.predicted_class,
        fill: PALETTE[t.predicted_class % PALETTE.length] }));
    }
    const a = attention.get(t.x + ',' + t.y);
    if (a !== undefined) {
      layers.attention.append(svgNode('rect', { ...box, class: 'attention-cell', fill: 'red', 'fill-opacity': 0.05 + 0.95 * a }));
    }
  }
  state.viewer.addOverlay({ element: svg, location: state.viewer.viewport.imageToViewportRectangle(0, 0, width, height) });
  applyOverlayStyle();
}

async function openSlide(slideId, focus) {
  show('viewer');
  if (state.slide === slideId && state.viewer) {
    if (focus) fit(focus);
    return;
  }
  state.slide = slideId;
  document.getElementById('osd').removeAttribute('data-ready');
  document.getElementById('osd').removeAttribute('data-failed');
  document.getElementById('osd').style.visibility = '';
  document.getElementById('viewer-error').textContent = '';
  document.getElementById('viewer-empty').hidden = true;
  document.getElementById('similar').replaceChildren();
  const detail = await api('/api/slides/' + encodeURIComponent(slideId));
  state.detail = detail;
  // Results come newest first, one per model and head: the served model's newest by default.
  const result = detail.results.find(r => r.model_id === state.modelId) ?? detail.results[0];
  state.result = result;
  document.getElementById('viewer-title').textContent = slideId +
    (result ? ' · ' + result.status + ' · ' + result.tiles_received + '/' + result.tile_count + ' tiles'
            : ' · ' + (detail.errors[0] ? detail.errors[0].code : ''));
  showHeads(detail, result);
  legend(detail.tissue_classes);
  const model = result ? result.model_id : state.modelId;
  state.tiles = result ? (await api('/api/slides/' + encodeURIComponent(slideId) + '/tiles?model_id=' + encodeURIComponent(model))).tiles : [];
  if (state.viewer) state.viewer.destroy();
  state.viewer = OpenSeadragon({
    id: 'osd', prefixUrl: 'vendor/openseadragon/images/', tileSources: detail.dzi,
    showNavigator: true, gestureSettingsMouse: { clickToZoom: false },
  });
  state.viewer.addHandler('open', () => {
    const size = state.viewer.world.getItemAt(0).getContentSize();
    drawOverlays(size.x, size.y);
    if (focus) fit(focus);
    // Which slide the viewer shows, once its overlays are drawn (the browser tests wait on it).
    document.getElementById('osd').setAttribute('data-ready', slideId);
  });
  state.viewer.addHandler('open-failed', async () => {
    // OpenSeadragon would say "Unable to open [object Object]": ask the API why, in words.
    let why = 'The slide\'s picture could not be opened';
    try {
      const r = await fetch(detail.dzi, { credentials: 'same-origin' });
      const body = await r.json();
      if (body.error) why = body.error.code + ': ' + body.error.message;
    } catch (e) { /* keep the plain sentence */ }
    const osd = document.getElementById('osd');
    osd.setAttribute('data-failed', slideId);
    osd.style.visibility = 'hidden';  // no black box with OpenSeadragon's "[object Object]"
    document.getElementById('viewer-error').textContent = why;
  });
  state.viewer.addHandler('canvas-click', e => {
    if (!e.quick) return;
    const p = state.viewer.viewport.viewerElementToImageCoordinates(e.position);
    const tile = state.tiles.find(t => p.x >= t.x && p.x < t.x + t.extent_px && p.y >= t.y && p.y < t.y + t.extent_px);
    if (tile) similarTo(tile);
  });
}

function fit(region) {
  const r = state.viewer.viewport.imageToViewportRectangle(region.x, region.y, region.extent, region.extent);
  state.viewer.viewport.fitBounds(r, true);
}

async function similarTo(tile) {
  const box = document.getElementById('similar');
  box.replaceChildren(el('p', { class: 'hint' }, 'Searching…'));
  const params = new URLSearchParams({ slide_id: state.slide, x: tile.x, y: tile.y, level: tile.level, model_id: tile.model_id, k: 12 });
  try {
    const body = await api('/api/search/tile?' + params);
    box.setAttribute('data-query', tile.x + ',' + tile.y);
    box.replaceChildren(...body.hits.map(h => {
      const picture = el('img', { src: h.image, alt: h.slide_id });
      // A slide outside the service's allowed roots (or gone) has no picture: say so.
      picture.addEventListener('error', () => picture.replaceWith(el('span', { class: 'no-picture' }, 'no picture')));
      const hit = el('div', { class: 'hit', 'data-slide-id': h.slide_id, 'data-x': h.region.x, 'data-y': h.region.y },
        picture,
        el('div', {}, el('div', {}, h.slide_id + (h.tissue_class ? ' · ' + h.tissue_class : '')),
          el('div', { class: 'score' }, 'score ' + h.score.toFixed(4))));
      hit.addEventListener('click', () => {
        location.hash = '#viewer/' + encodeURIComponent(h.slide_id) + '@' + h.region.x + ',' + h.region.y + ',' + h.region.width;
      });
      return hit;
    }));
  } catch (e) {
    box.replaceChildren(el('p', { class: 'error-message' }, e.message));
  }
}

// ---- Errors ------------------------------------------------------------------------------------

async function loadErrors() {
  const body = await api('/api/errors');
  document.querySelector('#errors-by-day tbody').replaceChildren(...body.by_code_and_day.map(e =>
    el('tr', { 'data-code': e.code }, el('td', {}, e.day), el('td', {}, e.code), el('td', {}, String(e.count)))));
  document.querySelector('#errors-recent tbody').replaceChildren(...body.recent.map(e => {
    const tr = el('tr', { 'data-slide-id': e.slide_id, 'data-code': e.code }, el('td', {}, e.slide_id), el('td', {}, e.code),
      el('td', {}, e.stage), el('td', { class: 'error-message' }, e.message), el('td', {}, new Date(e.failed_at).toLocaleString()));
    tr.addEventListener('click', () => { location.hash = '#viewer/' + encodeURIComponent(e.slide_id); });
    return tr;
  }));
}

// ---- Throughput --------------------------------------------------------------------------------

// Bars of each series on its own scale: the first series' axis on the left, the second's on the
// right, each with ticks in its colour (slides and tiles differ by a hundredfold). With
// ownAxes false the series share the left axis (two latency percentiles, both in seconds).
function chart(svg, series, keys, colors, unit, ownAxes = true) {
  const w = Number(svg.getAttribute('width')), h = Number(svg.getAttribute('height')), pad = 48;
  const step = (w - 2 * pad) / Math.max(1, series.length);
  const nodes = [svgNode('line', { x1: pad, y1: h - pad, x2: w - pad, y2: h - pad, stroke: '#999' })];
  const fmt = v => (v >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toPrecision(2)) + (unit ? ' ' + unit : '');
  const shared = Math.max(1e-9, ...series.flatMap(s => keys.map(k => s[k])));
  keys.forEach((k, ki) => {
    const max = ownAxes ? Math.max(1e-9, ...series.map(s => s[k])) : shared;
    const x = ki === 0 ? pad : w - pad;
    const axis = svgNode('g', { class: 'axis axis-' + k });
    if (!ownAxes && ki > 0) axis.style.display = 'none';
    axis.append(svgNode('line', { x1: x, y1: pad, x2: x, y2: h - pad, stroke: colors[ki] }));
    for (let t = 0; t <= 4; t++) {
      const y = h - pad - (h - 2 * pad) * t / 4;
      axis.append(svgNode('line', { x1: x - 3, y1: y, x2: x + 3, y2: y, stroke: colors[ki] }));
      axis.append(Object.assign(svgNode('text', { class: 'tick', x: ki === 0 ? 2 : w - pad + 5, y: y + 4,
        fill: colors[ki], 'font-size': 10 }), { textContent: fmt(max * t / 4) }));
    }
    nodes.push(axis);
    series.forEach((s, i) => {
      const bh = (h - 2 * pad) * s[k] / max;
      nodes.push(svgNode('rect', { class: 'bar-' + k, x: pad + i * step + ki * step / keys.length, y: h - pad - bh,
        width: Math.max(1, step / keys.length - 2), height: bh, fill: colors[ki] }));
    });
    nodes.push(Object.assign(svgNode('text', { class: 'series-name', x: ki === 0 ? pad + 6 : w - pad - 90, y: 14,
      fill: colors[ki], 'font-size': 12 }), { textContent: k + (!ownAxes ? '' : ki === 0 ? ' (left axis)' : ' (right axis)') }));
  });
  series.forEach((s, i) => {
    if (series.length <= 24 || i % Math.ceil(series.length / 12) === 0) {
      nodes.push(Object.assign(svgNode('text', { x: pad + i * step, y: h - pad + 14, 'font-size': 10 }),
        { textContent: new Date(s.start).toLocaleString() }));
    }
  });
  svg.replaceChildren(...nodes);
}

async function loadStats() {
  const bucket = document.getElementById('stats-bucket').value;
  const body = await api('/api/stats?bucket=' + bucket);
  chart(document.getElementById('chart-throughput'), body.series, ['slides', 'tiles'], ['#4363d8', '#3cb44b'], '');
  chart(document.getElementById('chart-latency'), body.series.map(s => ({ ...s, p50: s.latency_ms_p50 / 1000, p95: s.latency_ms_p95 / 1000 })),
    ['p50', 'p95'], ['#f58231', '#e6194b'], 's', false);
}

// ---- Routing -----------------------------------------------------------------------------------

async function route() {
  clearInterval(state.feedTimer);
  const hash = location.hash || '#feed';
  try {
    if (hash.startsWith('#viewer/')) {
      const [id, at] = hash.substring('#viewer/'.length).split('@');
      const focus = at ? (([x, y, extent]) => ({ x, y, extent }))(at.split(',').map(Number)) : null;
      await openSlide(decodeURIComponent(id), focus);
    } else if (hash === '#viewer') {
      show('viewer');
      if (!state.slide) document.getElementById('viewer-empty').hidden = false;
    } else if (hash === '#errors') {
      show('errors'); await loadErrors();
    } else if (hash === '#throughput') {
      show('throughput'); await loadStats();
    } else {
      show('feed'); await loadFeed();
      state.feedTimer = setInterval(() => loadFeed().catch(console.error), 5000);
    }
  } catch (e) {
    document.querySelector('.page.active')?.prepend(el('p', { class: 'error-message' }, e.message));
  }
}

async function init() {
  overlayControls();
  try {
    const models = await api('/api/models');
    state.modelId = models.current_model_id ?? models.served_model_id;
    document.getElementById('model').textContent = 'model ' + state.modelId;
  } catch (e) {
    document.getElementById('model').textContent = e.message;
  }
  document.getElementById('feed-status').addEventListener('change', loadFeed);
  document.getElementById('feed-q').addEventListener('input', loadFeed);
  document.getElementById('stats-bucket').addEventListener('change', loadStats);
  window.addEventListener('hashchange', route);
  await route();
}

init();
