import { createHash } from 'node:crypto';

/** How often the live page asks status.json for news (a page URL's `?interval=ms` overrides it, 250 ms at least). */
export const POLL_INTERVAL_MS = 2000;

/**
 * The live page's script: polls status.json (If-None-Match, so an unchanged ledger costs a 304),
 * derives rates, ETAs and stuck classes from what it saw over time (samples kept per stage in
 * localStorage, so a reload keeps the hour), and keeps the class list current by updating only the
 * blocks whose data changed: scroll position, filters, search, sort and open rows survive every
 * refresh. Each class's bits are one text line of ◯ ◉ ✕ in a few spans (one per run of a state),
 * and blocks off screen skip layout (`content-visibility`), so 1,000 classes of 5,000 bits stay
 * smooth. Plain ES2017 in a string: the page runs it as is (no bundler between it and Lambda), and
 * the CSP allows exactly this text by its hash. Rate and ETA arithmetic mirrors progress.ts.
 * No backticks or dollar-brace in here: this is a template literal.
 */
export const CLIENT_SCRIPT = String.raw`
(function () {
  'use strict';
  var live = document.getElementById('live');
  var staticView = document.getElementById('static');
  if (!live || !window.fetch || !window.Map || !window.Set || !Element.prototype.closest) return;
  var STAGE = live.getAttribute('data-stage') || '';
  var asked = Number(new URLSearchParams(location.search).get('interval'));
  var INTERVAL = asked >= 250 ? asked : Number(live.getAttribute('data-interval')) || 2000;
  var STALE_MS = Math.max(3 * INTERVAL, 10000);
  var RECENT_MS = 5 * 60000;
  var HOUR_MS = 60 * 60000;
  var MAX_PAGES = 20;
  var ORDER = ['FAILED', 'TRANSFERRING', 'CRAWLING', 'PENDING', 'COMPLETE'];
  var MOVING = { PENDING: true, CRAWLING: true, TRANSFERRING: true };
  var MARK = { d: '\u25C9', w: '\u25EF', f: '\u2715' };
  var HEX = {};
  '0123456789abcdef'.split('').forEach(function (c, i) { HEX[c] = i; HEX[c.toUpperCase()] = i; });
  var COLUMNS = [
    ['', ''], ['classId', 'class'], ['title', 'title'], ['status', 'status'], ['progress', 'files', 'n'],
    ['doneBytes', 'bytes', 'n'], ['failedFiles', 'failed', 'n'], ['eta', 'ETA', 'n'], ['updatedAt', 'updated', 'n']
  ];

  function $(id) { return document.getElementById(id); }
  var store = null;
  try { localStorage.setItem('flants:probe', '1'); localStorage.removeItem('flants:probe'); store = localStorage; } catch (e) { store = null; }
  function load(name, fallback) {
    try { var v = store && store.getItem('flants:' + STAGE + ':' + name); return v ? JSON.parse(v) : fallback; } catch (e) { return fallback; }
  }
  function save(name, value) {
    try { if (store) store.setItem('flants:' + STAGE + ':' + name, JSON.stringify(value)); } catch (e) { /* full or refused: the page works without */ }
  }

  var kept = load('view', {}) || {};
  var filter = live.getAttribute('data-filter') || kept.filter || '';
  var query = typeof kept.q === 'string' ? kept.q : '';
  var sortKey = typeof kept.sort === 'string' ? kept.sort : '';
  var sortDir = kept.dir === -1 ? -1 : 1;
  var stuckMin = kept.stuck > 0 ? kept.stuck : 10;
  var problemsFirst = kept.first !== false;
  var open = new Set(Array.isArray(kept.open) ? kept.open : []);
  function saveView() {
    save('view', { filter: filter, q: query, sort: sortKey, dir: sortDir, stuck: stuckMin, first: problemsFirst, open: Array.from(open).slice(-200) });
  }

  var snap = null;
  var rows = [];
  var byId = new Map();
  var etag = null;
  var lastOk = 0;
  var lastError = '';
  var busy = false;
  var timer = 0;
  var refreshes = 0;
  var samples = (load('samples', []) || []).filter(function (s) { return s && s.t > Date.now() - HOUR_MS - 60000; });
  var tracks = new Map();
  var failures = new Map();
  var nodes = new Map();

  function esc(v) {
    return String(v === undefined || v === null ? '' : v).replace(/[&<>"'\x60]/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; });
  }
  function fmtBytes(b) {
    var u = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
    var i = 0;
    while (b >= 1000 && i < u.length - 1) { b /= 1000; i++; }
    return i === 0 ? b + ' B' : b.toFixed(b >= 100 ? 0 : 1) + ' ' + u[i];
  }
  function fmtDur(ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return s + ' s';
    var m = Math.floor(s / 60);
    if (m < 60) return s % 60 ? m + ' min ' + (s % 60) + ' s' : m + ' min';
    var h = Math.floor(m / 60);
    if (h < 48) return m % 60 ? h + ' h ' + (m % 60) + ' min' : h + ' h';
    return Math.floor(h / 24) + ' d ' + (h % 24) + ' h';
  }
  function fmtRate(v) { return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2); }
  function fmtTime(iso) {
    var d = new Date(iso || '');
    if (isNaN(d.getTime())) return '';
    return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
  }
  function cut(s, n) { s = String(s || ''); return s.length > n ? s.slice(0, n) + '\u2026' : s; }

  // The bit field (docs/ledger.md): bit i is the most significant bit first of hex digit i >> 2.
  // Done and waiting marks share one text node (their shapes tell them apart); only runs of failed
  // marks get a span: a line costs a handful of DOM nodes however its bits interleave.
  function bitsLine(b) {
    var out = '';
    var text = '';
    var failedRun = '';
    var counts = { d: 0, w: 0, f: 0 };
    var digits = Math.ceil(b.total / 4);
    for (var j = 0; j < digits; j++) {
      var dn = HEX[b.done.charAt(j)] || 0;
      var fn = HEX[b.failed.charAt(j)] || 0;
      for (var k = 0; k < 4; k++) {
        if (j * 4 + k >= b.total) break;
        var m = 8 >> k;
        var x = fn & m ? 'f' : dn & m ? 'd' : 'w';
        counts[x]++;
        if (x === 'f') {
          if (text) { out += text; text = ''; }
          failedRun += MARK.f;
        } else {
          if (failedRun) { out += '<span class="f">' + failedRun + '</span>'; failedRun = ''; }
          text += MARK[x];
        }
      }
    }
    out += text;
    if (failedRun) out += '<span class="f">' + failedRun + '</span>';
    return { html: out, counts: counts };
  }

  function track(r, now) {
    var key = r.gen + ':' + r.status + ':' + r.doneFiles;
    var t = tracks.get(r.classId);
    if (!t || t.key !== key) {
      var since = t ? now : Math.min(now, Date.parse(r.updatedAt || '') || now);
      var last = t && t.s.length ? t.s[t.s.length - 1].f : 0;
      t = { key: key, since: since, s: t && r.doneFiles >= last ? t.s : [] };
      tracks.set(r.classId, t);
    }
    t.s.push({ t: now, f: r.doneFiles });
    while (t.s.length > 2 && t.s[0].t < now - RECENT_MS) t.s.shift();
  }
  function isStuck(r, now) {
    if (!MOVING[r.status]) return false;
    if (r.waitUntil && Date.parse(r.waitUntil) > now) return false;
    var t = tracks.get(r.classId);
    return !!t && now - t.since >= stuckMin * 60000;
  }
  function classRate(id) {
    var t = tracks.get(id);
    if (!t || t.s.length < 2) return null;
    var span = t.s[t.s.length - 1].t - t.s[0].t;
    return span >= 1000 ? ((t.s[t.s.length - 1].f - t.s[0].f) * 1000) / span : null;
  }
  function etaOf(r) {
    if (r.status !== 'TRANSFERRING' || r.totalFiles === null || r.totalFiles === undefined) return null;
    var rate = classRate(r.classId);
    return rate && rate > 0 ? ((r.totalFiles - r.doneFiles) / rate) * 1000 : null;
  }

  // Rates come from the totals this page saw: only increases count (a forced copy restarts a class).
  function rate(now, win) {
    var s = samples.filter(function (x) { return x.t >= now - win; });
    if (s.length < 2) return null;
    var span = s[s.length - 1].t - s[0].t;
    if (span < 1000) return null;
    var f = 0;
    var b = 0;
    for (var i = 1; i < s.length; i++) { f += Math.max(0, s[i].f - s[i - 1].f); b += Math.max(0, s[i].b - s[i - 1].b); }
    return { f: (f * 1000) / span, b: (b * 1000) / span, span: span };
  }
  function series(now, win, buckets, field) {
    var out = [];
    for (var k = 0; k < buckets; k++) out.push(0);
    var size = win / buckets;
    for (var i = 1; i < samples.length; i++) {
      var j = Math.min(buckets - 1, Math.floor((samples[i].t - (now - win)) / size));
      if (j >= 0 && samples[i].t <= now) out[j] += (Math.max(0, samples[i][field] - samples[i - 1][field]) * 1000) / size;
    }
    return out;
  }
  function spark(values, label) {
    var w = 160;
    var h = 26;
    var max = Math.max.apply(null, values.concat([1e-9]));
    var pts = values.map(function (v, i) { return ((i * w) / Math.max(1, values.length - 1)).toFixed(1) + ',' + (h - 1 - (v / max) * (h - 2)).toFixed(1); });
    return '<svg class="spark" width="' + w + '" height="' + h + '" viewBox="0 0 ' + w + ' ' + h + '" role="img" aria-label="' + esc(label) + '"><polyline points="' + pts.join(' ') + '"/></svg>';
  }

  function observe(now) {
    if (!snap) return;
    var last = samples[samples.length - 1];
    if (!last || now - last.t >= 200) samples.push({ t: now, f: snap.totals.doneFiles, b: snap.totals.doneBytes });
    while (samples.length > 2 && samples[0].t < now - HOUR_MS - 60000) samples.shift();
    save('samples', samples);
    var ids = new Set();
    for (var i = 0; i < rows.length; i++) { ids.add(rows[i].classId); track(rows[i], now); }
    tracks.forEach(function (_v, id) { if (!ids.has(id)) tracks.delete(id); });
  }

  function matches(r, now) {
    if (filter === 'STUCK') { if (!isStuck(r, now)) return false; } else if (filter && r.status !== filter) return false;
    if (!query) return true;
    var q = query.toLowerCase();
    return r.classId.toLowerCase().indexOf(q) >= 0 || String(r.title || '').toLowerCase().indexOf(q) >= 0;
  }
  function sortValue(r, st) {
    switch (sortKey) {
      case 'classId': return r.classId;
      case 'title': return String(r.title || '').toLowerCase();
      case 'status': return ORDER.indexOf(r.status);
      case 'progress': return r.totalFiles ? r.doneFiles / r.totalFiles : r.totalFiles === 0 ? 1 : -1;
      case 'eta': return st.eta === null ? Infinity : st.eta;
      case 'updatedAt': return r.updatedAt || '';
      default: return r[sortKey];
    }
  }
  function compare(a, b) {
    if (problemsFirst) {
      var ra = a.r.status === 'FAILED' ? 0 : a.st.stuck ? 1 : 2;
      var rb = b.r.status === 'FAILED' ? 0 : b.st.stuck ? 1 : 2;
      if (ra !== rb) return ra - rb;
    }
    if (sortKey) {
      var va = sortValue(a.r, a.st);
      var vb = sortValue(b.r, b.st);
      if (va < vb) return -sortDir;
      if (va > vb) return sortDir;
    } else {
      var s = ORDER.indexOf(a.r.status) - ORDER.indexOf(b.r.status);
      if (s) return s;
      var t = String(b.r.updatedAt || '').localeCompare(String(a.r.updatedAt || ''));
      if (t) return t;
    }
    return a.r.classId < b.r.classId ? -1 : a.r.classId > b.r.classId ? 1 : 0;
  }

  function goneText(r) {
    var g = r.goneAtOrigin;
    if (!g || !g.count) return '';
    return g.count + ' file(s) gone at the origin, their verified copies kept in the bucket';
  }
  function failureSig(r) { return r.gen + ':' + r.failedFiles + ':' + (r.bits ? r.bits.failed : ''); }
  function loadFailures(r) {
    if (!r.failedFiles) return;
    var sig = failureSig(r);
    var f = failures.get(r.classId);
    if (f && f.sig === sig && f.state !== 'error') return;
    failures.set(r.classId, { sig: sig, state: 'loading' });
    fetch('status.json?class=' + encodeURIComponent(r.classId), { cache: 'no-store', credentials: 'same-origin' })
      .then(function (res) { if (!res.ok) throw new Error('HTTP ' + res.status); return res.json(); })
      .then(function (data) { failures.set(r.classId, { sig: sig, state: 'ok', data: data }); },
        function (err) { failures.set(r.classId, { sig: sig, state: 'error', error: String(err && err.message || err) }); })
      .then(function () { renderList(Date.now()); });
  }
  function moreHtml(r, st) {
    var h = '<div class="more">';
    var facts = ['generation ' + r.gen];
    if (r.bits) facts.push(r.bits.total + ' ' + r.bits.unit + 's');
    if (r.createdAt) facts.push('first enqueued ' + fmtTime(r.createdAt));
    if (r.updatedAt) facts.push('updated ' + fmtTime(r.updatedAt));
    if (r.completedAt) facts.push('complete ' + fmtTime(r.completedAt) + (r.createdAt ? ' (' + fmtDur(Date.parse(r.completedAt) - Date.parse(r.createdAt)) + ' after first enqueue)' : ''));
    if (typeof r.freshnessSeconds === 'number') facts.push('fresh in ' + fmtDur(r.freshnessSeconds * 1000) + ' (class end \u2192 COMPLETE)');
    if (r.failedAttempts) facts.push(r.failedAttempts + ' failed deliveries retried');
    if (st.eta !== null) facts.push('ETA ' + fmtDur(st.eta));
    h += '<div class="muted">' + esc(facts.join(' \u00b7 ')) + '</div>';
    if (r.lastError) h += '<div class="note">' + esc(r.lastError) + '</div>';
    if (r.verified) h += '<div class="' + (r.verified.result === 'OK' ? 'muted' : 'note') + '">' + (r.verified.result === 'OK' && !r.verified.stale ? '\u2713 ' : '') + 'verified ' + esc(fmtTime(r.verified.at)) + ': ' + esc(r.verified.result) + (r.verified.stale ? ' (of generation ' + esc(r.verified.gen) + ': copied again since)' : '') + '</div>';
    if (goneText(r)) {
      var g = r.goneAtOrigin;
      h += '<p class="muted gone">' + esc(goneText(r)) + (g.count > g.keys.length ? ' (the first ' + esc(g.keys.length) + ' listed)' : '') + ':</p><ul class="gone">';
      g.keys.forEach(function (k) { h += '<li><code>' + esc(k) + '</code></li>'; });
      h += '</ul>';
    }
    if (r.failedFiles) {
      var f = failures.get(r.classId);
      if (!f || f.state === 'loading') h += '<p class="muted">loading the failed files\u2026</p>';
      else if (f.state === 'error') h += '<p class="note">could not load the failed files: ' + esc(f.error) + '</p>';
      else {
        var list = f.data.failures || [];
        h += '<table><thead><tr><th>chunk</th><th>failed file</th><th>reason</th></tr></thead><tbody>';
        list.forEach(function (c) {
          c.files.forEach(function (file) { h += '<tr><td>' + esc(c.chunk) + '</td><td><code>' + esc(file.key) + '</code></td><td class="err">' + esc(file.reason) + '</td></tr>'; });
          if (c.notListed) h += '<tr><td>' + esc(c.chunk) + '</td><td colspan="2" class="muted">and ' + esc(c.notListed) + ' more</td></tr>';
          if (c.provisional) h += '<tr><td>' + esc(c.chunk) + '</td><td colspan="2" class="muted">recorded when its last delivery began: the function may have crashed or timed out</td></tr>';
        });
        h += '</tbody></table>';
        if (!list.length) h += '<p class="muted">no failed files are recorded for the current plan</p>';
      }
      h += '<p class="muted">Fix the cause, then run <code>flants redrive --queue transfer</code>: a redriven chunk that succeeds clears its failure.</p>';
    }
    return h + '</div>';
  }
  function rowHtml(r, st, isOpen) {
    var files = r.totalFiles === null || r.totalFiles === undefined
      ? r.doneFiles + ' / ?'
      : r.doneFiles + ' / ' + r.totalFiles + ' (' + (r.totalFiles > 0 ? Math.floor((r.doneFiles / r.totalFiles) * 100) : 100) + '%)';
    var h = '<div class="line" role="row"><button class="tg" aria-expanded="' + isOpen + '" aria-label="details of ' + esc(r.classId) + '">' + (isOpen ? '\u25BE' : '\u25B8') + '</button>' +
      '<code class="id">' + esc(r.classId) + '</code><span class="ti" title="' + esc(r.title) + '">' + esc(r.title) + '</span>' +
      '<span class="st">' + esc(r.status) + '</span><span class="n">' + esc(files) + '</span><span class="n">' + esc(fmtBytes(r.doneBytes)) + '</span>' +
      '<span class="n">' + (r.failedFiles ? esc(r.failedFiles) : '') + '</span><span class="n">' + (st.eta !== null ? esc(fmtDur(st.eta)) : '') + '</span>' +
      '<span class="n" title="' + esc(r.updatedAt) + '">' + esc(fmtTime(r.updatedAt)) + '</span></div>';
    if (r.bits && (r.status !== 'COMPLETE' || isOpen)) {
      var line = bitsLine(r.bits);
      var title = line.counts.d + ' of ' + r.bits.total + ' ' + r.bits.unit + 's done' + (line.counts.f ? ', ' + line.counts.f + ' failed' : '') + ', ' + line.counts.w + ' waiting';
      h += '<div class="bits" title="' + esc(title) + '" aria-label="' + esc(title) + '">' + line.html + '</div>';
    } else if (r.status === 'COMPLETE') {
      var took = typeof r.freshnessSeconds === 'number'
        ? ' \u00b7 fresh in ' + fmtDur(r.freshnessSeconds * 1000) + ' (class end \u2192 COMPLETE)'
        : r.createdAt && r.completedAt ? ' \u00b7 ' + fmtDur(Date.parse(r.completedAt) - Date.parse(r.createdAt)) + ' from first enqueue to complete' : '';
      h += '<div class="sum">\u25C9 all ' + esc(r.bits ? r.bits.total + ' ' + r.bits.unit + 's' : r.doneFiles + ' files') + ' done \u00b7 ' + esc(fmtBytes(r.doneBytes)) + esc(took) + '</div>';
    }
    if (r.lastError && !isOpen) h += '<div class="note">' + esc(cut(r.lastError, 300)) + '</div>';
    if (goneText(r) && !isOpen) h += '<div class="muted gone">' + esc(goneText(r)) + '</div>';
    if (r.fileAccount) h += '<div class="muted account">' + esc(r.fileAccount) + '</div>';
    if (isOpen) h += moreHtml(r, st);
    return h;
  }
  function header() {
    return COLUMNS.map(function (c) {
      if (!c[0]) return '<span></span>';
      var mark = sortKey === c[0] ? (sortDir > 0 ? ' \u25B2' : ' \u25BC') : '';
      return '<span class="' + (c[2] || '') + '" role="columnheader"><button data-sort="' + c[0] + '">' + c[1] + mark + '</button></span>';
    }).join('');
  }

  function renderList(now) {
    var list = $('list');
    var hdr = list.firstElementChild;
    if (!hdr || hdr.className !== 'hdr') { hdr = document.createElement('div'); hdr.className = 'hdr'; hdr.setAttribute('role', 'row'); list.insertBefore(hdr, list.firstChild); }
    var h = header();
    if (hdr.innerHTML !== h) hdr.innerHTML = h;
    var shown = [];
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i];
      if (!matches(r, now)) continue;
      shown.push({ r: r, st: { stuck: isStuck(r, now), eta: etaOf(r) } });
    }
    shown.sort(compare);
    var cursor = hdr.nextSibling;
    var keep = new Set();
    shown.forEach(function (x) {
      var r = x.r;
      var id = r.classId;
      var isOpen = open.has(id);
      if (isOpen) loadFailures(r);
      var f = failures.get(id);
      var sig = [r.status, r.doneFiles, r.totalFiles, r.doneBytes, r.failedFiles, r.lastError, r.updatedAt, r.bits ? r.bits.total + r.bits.done + '/' + r.bits.failed : '', goneText(r),
        x.st.stuck, x.st.eta === null ? '' : fmtDur(x.st.eta), isOpen, isOpen && f ? f.state + f.sig : ''].join('|');
      var n = nodes.get(id);
      if (!n) {
        n = { el: document.createElement('div'), sig: '' };
        n.el.setAttribute('data-id', id);
        nodes.set(id, n);
      }
      if (n.sig !== sig) {
        n.el.className = 'cls s-' + r.status.toLowerCase() + (x.st.stuck ? ' stuck' : '') + (isOpen ? ' open' : '');
        // Off-screen blocks are skipped by layout; this guess of their height keeps the scrollbar honest.
        var lines = r.bits && r.status !== 'COMPLETE' ? Math.ceil(r.bits.total / 140) : 1;
        n.el.style.containIntrinsicSize = 'auto ' + (26 + lines * 15 + (r.lastError ? 18 : 0) + (goneText(r) ? 18 : 0)) + 'px';
        n.el.innerHTML = rowHtml(r, x.st, isOpen);
        n.sig = sig;
      }
      keep.add(id);
      if (n.el === cursor) cursor = cursor.nextSibling;
      else list.insertBefore(n.el, cursor);
    });
    while (cursor) { var next = cursor.nextSibling; list.removeChild(cursor); cursor = next; }
    nodes.forEach(function (_n, id) { if (!byId.has(id)) nodes.delete(id); });
    var info = [];
    if (shown.length < rows.length) info.push(shown.length + ' of ' + rows.length + ' classes match');
    if (snap && snap.notLoaded) info.push(snap.notLoaded + ' more classes were not loaded (the page reads at most ' + MAX_PAGES + ' pages; filter with ?status=)');
    $('more-info').textContent = info.join(' \u00b7 ');
    if (!shown.length) $('more-info').textContent = rows.length ? 'No class matches.' : 'No classes in the ledger yet.';
  }

  function renderChips(now) {
    var stuck = rows.filter(function (r) { return isStuck(r, now); }).length;
    var chips = [['', 'all', rows.length]].concat(ORDER.map(function (s) { return [s, s, snap.counts[s] || 0]; })).concat([['STUCK', 'stuck', stuck]]);
    var h = chips.map(function (c) { return '<button data-f="' + c[0] + '" aria-pressed="' + (filter === c[0]) + '">' + esc(c[1]) + ' ' + esc(c[2]) + '</button>'; }).join(' ');
    var el = $('chips');
    if (el.innerHTML !== h) el.innerHTML = h;
  }
  function renderSummary() {
    var t = snap.totals;
    $('summary').innerHTML = '<p><strong>' + esc(t.classes) + (t.classes === 1 ? ' class' : ' classes') + '</strong>: ' + ORDER.map(function (s) { return esc(s) + ' ' + esc(snap.counts[s] || 0); }).join(' \u00b7 ') +
      '<br>files ' + esc(t.doneFiles) + ' / ' + esc(t.totalFiles) + ' \u00b7 ' + esc(fmtBytes(t.doneBytes)) + ' copied \u00b7 ' + esc(t.failedFiles) + (t.failedFiles === 1 ? ' failed file' : ' failed files') + '</p>';
  }
  function renderRates(now) {
    var recent = rate(now, RECENT_MS);
    var hour = rate(now, HOUR_MS);
    var seen = samples.length ? now - samples[0].t : 0;
    var win = Math.min(HOUR_MS, Math.max(2 * 60000, seen));
    var label = function (r) { return r && r.span < HOUR_MS - 60000 ? 'over the ' + fmtDur(r.span) + ' seen' : 'last hour'; };
    var inflight = rows.filter(function (r) { return r.status === 'TRANSFERRING' && r.totalFiles !== null && r.totalFiles !== undefined; });
    var left = inflight.reduce(function (n, r) { return n + Math.max(0, r.totalFiles - r.doneFiles); }, 0);
    var h = '<div>files/s <b id="rate-files">' + (recent ? fmtRate(recent.f) : '\u2014') + '</b> last 5 min \u00b7 <b>' + (hour ? fmtRate(hour.f) : '\u2014') + '</b> ' + esc(label(hour)) + spark(series(now, win, 40, 'f'), 'files per second') + '</div>' +
      '<div>MB/s <b id="rate-mb">' + (recent ? fmtRate(recent.b / 1e6) : '\u2014') + '</b> last 5 min \u00b7 <b>' + (hour ? fmtRate(hour.b / 1e6) : '\u2014') + '</b> ' + esc(label(hour)) + spark(series(now, win, 40, 'b'), 'megabytes per second') + '</div>' +
      '<div>ETA <b id="eta">' + (inflight.length ? (recent && recent.f > 0 ? esc(fmtDur((left / recent.f) * 1000)) : '\u2014') : 'nothing in flight') + '</b>' + (inflight.length ? ' for ' + inflight.length + (inflight.length === 1 ? ' class' : ' classes') + ' in flight (' + left + (left === 1 ? ' file' : ' files') + ' left)' : '') + '</div>';
    // Always there, so the page below never shifts when the first rate appears.
    h += '<div class="muted">measured by this page from the totals it sees (kept for an hour in this browser)</div>';
    $('rates').innerHTML = h;
    // The ledger's freshness (class end to COMPLETE), as flants status --watch prints it.
    $('freshness').textContent = snap.freshnessText || '';
  }
  function renderQueues() {
    var h = '<table><thead><tr><th>queue</th><th>waiting</th><th>in flight</th><th>delayed</th><th>oldest</th><th>what to do</th></tr></thead><tbody>';
    snap.queues.forEach(function (q) {
      var alert = /-dlq$/.test(q.name) && q.visible > 0;
      h += '<tr' + (alert ? ' class="s-failed"' : '') + '><td>' + esc(q.name) + '</td>' +
        (q.error ? '<td colspan="4" class="err">' + esc(q.error) + '</td>' : '<td class="n">' + esc(q.visible) + '</td><td class="n">' + esc(q.inFlight) + '</td><td class="n">' + esc(q.delayed) + '</td>' +
          '<td class="n">' + (q.oldestSentAt ? esc(fmtDur(Math.max(0, Date.parse(q.oldestAsOf || snap.generatedAt) - Date.parse(q.oldestSentAt))) +
            // A metric's figure (CloudWatch, minutes late) says how old it is rather than pass for now.
            (q.oldestAsOf ? ' (as of ' + fmtDur(Math.max(0, Date.parse(snap.generatedAt) - Date.parse(q.oldestAsOf))) + ' ago)' : '')) : '\u2014') + '</td>') +
        '<td class="advice">' + esc(q.advice || '') + '</td></tr>';
    });
    // Fresh work and the backfill, apart (issue 25): a backfill's old classes would hide the fresh ones' figure.
    var lf = snap.laneFreshness;
    h += '</tbody></table>';
    if (lf) h += '<p class="muted" id="lane-freshness">' + [['fresh work', lf.fresh], ['backfill', lf.backfill]].map(function (p) {
      var f = p[1];
      return esc(p[0]) + ': ' + (f.classes ? 'median ' + esc(fmtDur(f.medianSeconds * 1000)) + ', p95 ' + esc(fmtDur(f.p95Seconds * 1000)) + ', worst ' + esc(fmtDur(f.worstSeconds * 1000)) + ' over ' + f.classes + ' classes' : 'no class completed') + ' (last ' + f.windowHours + ' h)';
    }).join('<br>') + '</p>';
    // The origin's answers to the fleet (per host, last minutes), when the ledger has them.
    var o = snap.origins || [];
    if (o.length) {
      var per = function (n, m) { return (n / (m * 60)).toFixed(2); };
      h += '<h2>Origin, last ' + esc(o[0].minutes) + ' min</h2><table><thead><tr><th>host</th><th>answers/s</th><th>throttled/s</th><th>distress/s</th><th>mean latency</th><th>last throttle</th></tr></thead><tbody>';
      o.forEach(function (r) {
        h += '<tr' + (r.throttled > 0 ? ' class="s-failed"' : '') + '><td>' + esc(r.host) + '</td><td class="n">' + per(r.ok + r.throttled + r.distress + r.other, r.minutes) + '</td><td class="n">' + per(r.throttled, r.minutes) +
          '</td><td class="n">' + per(r.distress, r.minutes) + '</td><td class="n">' + (r.latencyMsMean === undefined || r.latencyMsMean === null ? '' : esc(r.latencyMsMean) + ' ms') + '</td><td>' +
          (r.lastThrottle ? 'throttled by the origin: ' + esc(r.lastThrottle) + ' at ' + esc(r.lastThrottleAt) : '') + '</td></tr>';
      });
      h += '</tbody></table>';
    }
    $('queues').innerHTML = h;
  }
  function renderFreshness(now) {
    var age = lastOk ? now - lastOk : 0;
    var stale = !lastOk || age > STALE_MS || !!lastError;
    document.body.classList.toggle('stale', stale);
    $('freshline').innerHTML = '<span class="dot"></span>' + (lastOk ? (stale ? 'stale' : 'live') + ' \u00b7 checked ' + esc(fmtDur(age)) + ' ago \u00b7 every ' + esc(fmtDur(INTERVAL)) : 'loading');
    var banner = $('stale');
    if (lastError || (lastOk && age > STALE_MS)) {
      var msg = lastOk ? 'Stale: the last successful refresh was ' + fmtDur(age) + ' ago.' : 'Live updates are off: this is the page as it was served.';
      if (lastError) msg += ' ' + lastError + '.';
      if (/HTTP 40[13]/.test(lastError)) msg += ' The deployed dashboard answers only IAM-signed requests, which a browser does not make; "flants dashboard" serves a live page locally.';
      banner.textContent = msg;
      banner.hidden = false;
    } else banner.hidden = true;
  }

  function render(now) {
    if (!snap) return;
    var t0 = performance.now();
    renderSummary();
    renderRates(now);
    renderQueues();
    renderChips(now);
    renderList(now);
    if (live.hidden) { live.hidden = false; if (staticView) staticView.hidden = true; }
    void $('list').offsetHeight;
    var ms = String(Math.round(performance.now() - t0));
    live.setAttribute('data-render-ms', ms);
    if (!live.hasAttribute('data-first-render-ms')) live.setAttribute('data-first-render-ms', ms);
    renderFreshness(now);
  }

  function getJson(url, conditional) {
    var headers = {};
    if (conditional && etag) headers['If-None-Match'] = etag;
    return fetch(url, { headers: headers, cache: 'no-store', credentials: 'same-origin' }).then(function (res) {
      if (res.status === 304) return null;
      if (!res.ok) return res.text().then(function (t) { throw new Error('status.json answered HTTP ' + res.status + (t ? ' (' + cut(t.trim(), 200) + ')' : '')); });
      return res.json().then(function (body) { return { body: body, tag: res.headers.get('etag') }; });
    });
  }
  function fetchAll() {
    return getJson('status.json?limit=5000', true).then(function (first) {
      if (!first) return null;
      var all = first.body.classes;
      var next = first.body.next;
      var left = 0;
      var pages = 1;
      function more() {
        if (!next || pages >= MAX_PAGES) {
          first.body.classes = all;
          first.body.notLoaded = next ? left : 0;
          etag = first.tag;
          return first.body;
        }
        return getJson('status.json?limit=5000&cursor=' + encodeURIComponent(next), false).then(function (p) {
          all = all.concat(p.body.classes);
          next = p.body.next;
          left = p.body.omitted;
          pages++;
          return more();
        });
      }
      left = first.body.omitted;
      return more();
    });
  }
  function tick() {
    if (document.hidden) { schedule(INTERVAL); return; }
    if (busy) return;
    busy = true;
    var t0 = performance.now();
    fetchAll().then(function (fresh) {
      var now = Date.now();
      lastOk = now;
      lastError = '';
      if (fresh) {
        snap = fresh;
        rows = fresh.classes;
        byId = new Map();
        rows.forEach(function (r) { byId.set(r.classId, r); });
        live.setAttribute('data-fetch-ms', String(Math.round(performance.now() - t0)));
      }
      observe(now);
      render(now);
      refreshes++;
      live.setAttribute('data-refreshes', String(refreshes));
    }, function (err) {
      lastError = String(err && err.message ? err.message : err);
      renderFreshness(Date.now());
    }).then(function () { busy = false; schedule(INTERVAL); });
  }
  function schedule(ms) { clearTimeout(timer); timer = setTimeout(tick, ms); }

  $('chips').addEventListener('click', function (e) {
    var b = e.target.closest('button[data-f]');
    if (!b) return;
    var f = b.getAttribute('data-f');
    filter = filter === f ? '' : f;
    saveView();
    render(Date.now());
  });
  var q = $('q');
  var stuck = $('stuck');
  var first = $('first');
  q.value = query;
  stuck.value = String(stuckMin);
  first.checked = problemsFirst;
  var typing = 0;
  q.addEventListener('input', function () {
    clearTimeout(typing);
    typing = setTimeout(function () { query = q.value.trim(); saveView(); renderList(Date.now()); }, 120);
  });
  stuck.addEventListener('change', function () {
    var v = Number(stuck.value);
    if (v >= 1) { stuckMin = v; saveView(); render(Date.now()); }
  });
  first.addEventListener('change', function () { problemsFirst = first.checked; saveView(); renderList(Date.now()); });
  $('list').addEventListener('click', function (e) {
    var s = e.target.closest('button[data-sort]');
    if (s) {
      var k = s.getAttribute('data-sort');
      if (sortKey === k) sortDir = -sortDir; else { sortKey = k; sortDir = 1; }
      saveView();
      renderList(Date.now());
      return;
    }
    if (e.target.closest('.more')) return;
    var line = e.target.closest('.line');
    if (!line) return;
    if (String(window.getSelection ? window.getSelection() : '').length && !e.target.closest('.tg')) return;
    var id = line.parentNode.getAttribute('data-id');
    if (open.has(id)) open.delete(id); else open.add(id);
    saveView();
    renderList(Date.now());
  });
  document.addEventListener('visibilitychange', function () { if (!document.hidden) schedule(0); });
  setInterval(function () { renderFreshness(Date.now()); }, 1000);
  tick();
})();
`;

/** The CSP source that allows exactly CLIENT_SCRIPT to run. */
export const CLIENT_SCRIPT_HASH = `sha256-${createHash('sha256').update(CLIENT_SCRIPT).digest('base64')}`;
