/* supervisor-rs web UI: keeps the server-rendered pages live. No framework, no build step.
   Without JavaScript the pages work as they are (links, redirects, Refresh). */
(() => {
  'use strict';
  const $ = (s, r = document) => r.querySelector(s);
  const $$ = (s, r = document) => Array.from(r.querySelectorAll(s));
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const quote = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  document.documentElement.classList.add('js');

  /* ---- XML-RPC ---- */
  const enc = (v) => {
    if (v === null || v === undefined) return '<nil/>';
    if (typeof v === 'boolean') return `<boolean>${v ? 1 : 0}</boolean>`;
    if (typeof v === 'number') return Number.isInteger(v) ? `<int>${v}</int>` : `<double>${v}</double>`;
    if (Array.isArray(v)) return `<array><data>${v.map((x) => `<value>${enc(x)}</value>`).join('')}</data></array>`;
    if (typeof v === 'object') {
      return `<struct>${Object.entries(v).map(([k, x]) => `<member><name>${esc(k)}</name><value>${enc(x)}</value></member>`).join('')}</struct>`;
    }
    return `<string>${esc(v)}</string>`;
  };
  const kids = (el, tag) => Array.from(el.children).filter((c) => c.localName === tag);
  const dec = (value) => {
    const t = value.firstElementChild;
    if (!t) return value.textContent;
    const text = t.textContent;
    switch (t.localName) {
      case 'int': case 'i4': case 'i8': return parseInt(text, 10);
      case 'boolean': return text.trim() === '1';
      case 'double': return parseFloat(text);
      case 'nil': return null;
      case 'array': {
        const data = kids(t, 'data')[0];
        return data ? kids(data, 'value').map(dec) : [];
      }
      case 'struct': {
        const o = {};
        for (const m of kids(t, 'member')) {
          const n = kids(m, 'name')[0], v = kids(m, 'value')[0];
          if (n) o[n.textContent] = v ? dec(v) : '';
        }
        return o;
      }
      default: return text;
    }
  };
  async function rpc(method, ...params) {
    const body = `<?xml version="1.0"?>\n<methodCall><methodName>${esc(method)}</methodName><params>${params.map((p) => `<param><value>${enc(p)}</value></param>`).join('')}</params></methodCall>`;
    const r = await fetch('RPC2', { method: 'POST', headers: { 'Content-Type': 'text/xml' }, body, cache: 'no-store' });
    if (!r.ok) throw { network: true, faultCode: -r.status, faultString: `HTTP ${r.status} ${r.statusText}` };
    const doc = new DOMParser().parseFromString(await r.text(), 'text/xml');
    const fault = doc.querySelector('methodResponse > fault > value');
    if (fault) {
      const f = dec(fault);
      throw { faultCode: f.faultCode, faultString: f.faultString };
    }
    const v = doc.querySelector('methodResponse > params > param > value');
    if (!v) throw { network: true, faultCode: 0, faultString: 'malformed response' };
    return dec(v);
  }

  const ctime = () => {
    const d = new Date(), p = (n) => String(n).padStart(2, '0');
    const [wd, mo] = [d.toLocaleString('en-US', { weekday: 'short' }), d.toLocaleString('en-US', { month: 'short' })];
    return `${wd} ${mo} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
  };
  const unexpected = (f) => `unexpected rpc fault [${f.faultCode}] ${f.faultString}`;

  /* ---- status page ---- */
  function statusPage() {
    const ACTIONS = {
      running: [['Restart', 'restart'], ['Stop', 'stop'], ['Clear Log', 'clearlog']],
      stopped: [['Start', 'start'], ['Clear Log', 'clearlog']],
    };
    ACTIONS.exited = ACTIONS.fatal = ACTIONS.stopped;
    const cls = (s) => (s === 'running' ? 'statusrunning' : s === 'fatal' || s === 'backoff' ? 'statuserror' : 'statusnominal');
    const nsOf = (p) => (p.group === p.name ? p.name : `${p.group}:${p.name}`);
    const form = $('#filters'), qIn = form && form.elements.q, stIn = form && form.elements.state;
    const msg = $('#message');
    let infos = [], skew = 0, timer = 0, polling = null, lost = null;

    const actionsHtml = (ns, state) => {
      const q = quote(ns);
      return (ACTIONS[state] || [['Clear Log', 'clearlog']]).map(([label, a]) =>
        `<li><a href="index.html?processname=${q}&amp;action=${a}" name="${label}" data-action="${a}">${label}</a></li>`).join('') +
        `<li><a href="logtail/${q}" name="Tail -f Stdout" target="_blank">Tail -f Stdout</a></li><li><a href="logtail/${q}/stderr" name="Tail -f Stderr" target="_blank">Tail -f Stderr</a></li>`;
    };
    const rowHtml = (p) => {
      const ns = nsOf(p), s = p.statename.toLowerCase();
      return `<tr class="process" data-namespec="${esc(ns)}" data-state="${esc(s)}"><td class="status"><span class="${cls(s)}">${esc(s)}</span></td><td class="desc"><span>${esc(p.description)}</span></td><td class="name"><a href="tail.html?processname=${quote(ns)}" target="_blank">${esc(ns)}</a></td><td class="action"><ul>${actionsHtml(ns, s)}</ul></td></tr>`;
    };
    const headerHtml = (g) => {
      const q = quote(g);
      return `<tr class="group-row"><th colspan="4"><span class="group-name">${esc(g)}</span> <span class="counts"></span> <span class="group-actions">` +
        [['Start all', 'startgroup'], ['Stop all', 'stopgroup'], ['Restart all', 'restartgroup']].map(([l, a]) =>
          `<a href="index.html?groupname=${q}&amp;action=${a}" data-action="${a}">${l}</a> `).join('') + '</span></th></tr>';
    };
    const tbodyFrag = (html) => { const t = document.createElement('table'); t.innerHTML = html; return t.querySelector('tr'); };

    const table = () => {
      let t = $('#processes');
      if (!t) {
        t = frag('<table id="processes"><thead><tr><th class="state">State</th><th class="desc">Description</th><th class="name">Name</th><th class="action">Action</th></tr></thead></table>');
        const e = $('#empty');
        if (e) e.replaceWith(t); else $('#wrapper').append(t);
      }
      return t;
    };

    function render() {
      const groups = new Map();
      for (const p of [...infos].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        if (!groups.has(p.group)) groups.set(p.group, []);
        groups.get(p.group).push(p);
      }
      if (!groups.size && !$('#processes')) return;
      const t = table();
      const keep = new Set();
      let prev = t.tHead;
      for (const [g, members] of groups) {
        let tb = $$('tbody.group', t).find((b) => b.dataset.group === g);
        if (!tb) { tb = document.createElement('tbody'); tb.className = 'group'; tb.dataset.group = g; }
        if (prev.nextElementSibling !== tb) prev.after(tb);
        prev = tb;
        keep.add(tb);
        let hdr = $('tr.group-row', tb);
        if (members.some((p) => p.name !== g)) {
          if (!hdr) { hdr = tbodyFrag(headerHtml(g)); tb.prepend(hdr); }
          const n = members.filter((p) => p.statename === 'RUNNING').length;
          $('.counts', hdr).textContent = `${n} of ${members.length} running`;
        } else if (hdr) hdr.remove();
        let at = hdr;
        const rows = new Set();
        for (const p of members) {
          const ns = nsOf(p), s = p.statename.toLowerCase();
          let tr = $$('tr.process', tb).find((r) => r.dataset.namespec === ns);
          if (!tr) tr = tbodyFrag(rowHtml(p));
          else if (tr.dataset.state !== s) {
            tr.dataset.state = s;
            const span = $('td.status span', tr);
            span.className = cls(s); span.textContent = s;
            $('td.action ul', tr).innerHTML = actionsHtml(ns, s);
          }
          const d = $('td.desc span', tr);
          if (d.textContent !== p.description) d.textContent = p.description;
          tr._info = p;
          if (at ? at.nextElementSibling !== tr : tb.firstElementChild !== tr) {
            if (at) at.after(tr); else tb.prepend(tr);
          }
          at = tr;
          rows.add(tr);
        }
        $$('tr.process', tb).forEach((r) => rows.has(r) || r.remove());
      }
      $$('tbody.group', t).forEach((b) => keep.has(b) || b.remove());
      applyFilter();
    }

    function applyFilter() {
      const q = (qIn ? qIn.value : '').toLowerCase(), st = stIn ? stIn.value.toLowerCase() : '';
      let shade = false, any = false;
      for (const tb of $$('#processes tbody.group')) {
        let vis = 0;
        for (const tr of $$('tr.process', tb)) {
          const ok = (!q || tr.dataset.namespec.toLowerCase().includes(q)) && (!st || tr.dataset.state === st);
          tr.classList.toggle('hidden', !ok);
          if (ok) { tr.classList.toggle('shade', shade); shade = !shade; vis++; }
        }
        tb.classList.toggle('hidden', !vis);
        any = any || vis > 0;
      }
      let nm = $('#nomatch');
      const t = $('#processes');
      if (t && !any) {
        if (!nm) { nm = frag('<p id="nomatch">No processes match the filter</p>'); t.after(nm); }
        nm.classList.remove('hidden');
      } else if (nm) nm.classList.add('hidden');
    }

    function syncUrl() {
      const u = new URL(location.href), sp = new URLSearchParams();
      if (qIn && qIn.value) sp.set('q', qIn.value);
      if (stIn && stIn.value) sp.set('state', stIn.value);
      const s = sp.toString();
      history.replaceState(history.state, '', u.pathname + (s ? '?' + s : '') + u.hash);
    }
    if (form) {
      form.addEventListener('submit', (e) => { e.preventDefault(); applyFilter(); syncUrl(); });
      form.addEventListener('input', () => { applyFilter(); syncUrl(); });
      form.addEventListener('change', () => { applyFilter(); syncUrl(); });
    }

    function setLost(why) {
      if (why) {
        if (!lost) {
          lost = frag('<div id="lost" role="alert"></div>');
          (msg || $('#toolbar')).before(lost);
        }
        lost.textContent = `Lost contact with supervisord (${why}); retrying\u2026`;
        document.body.classList.add('offline');
      } else if (lost) {
        lost.remove(); lost = null;
        document.body.classList.remove('offline');
      }
    }

    // `fresh`: a poll started after now (one in flight may predate the change just made).
    function poll(fresh) {
      if (polling) return fresh ? polling.then(() => poll()) : polling;
      clearTimeout(timer);
      polling = rpc('supervisor.getAllProcessInfo').then((all) => {
        infos = Array.isArray(all) ? all : [];
        const now = infos.length && infos[0].now;
        if (now) skew = Date.now() / 1000 - now;
        setLost(null);
        render();
      }, (e) => {
        setLost(e && e.faultString ? e.faultString : 'network error');
      }).finally(() => {
        polling = null;
        timer = setTimeout(poll, 2000);
      });
      return polling;
    }

    const uptime = (secs) => {
      secs = Math.max(0, Math.floor(secs));
      const d = Math.floor(secs / 86400), h = Math.floor(secs / 3600) % 24, m = Math.floor(secs / 60) % 60, s = secs % 60;
      const hms = `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
      return d ? `${d} day${d > 1 ? 's' : ''}, ${hms}` : hms;
    };
    setInterval(() => {
      if (lost) return;
      const now = Date.now() / 1000 - skew;
      for (const tr of $$('#processes tr.process[data-state="running"]')) {
        const p = tr._info, span = $('td.desc span', tr);
        if (!p || !p.start || !/^pid \d+, uptime /.test(span.textContent)) continue;
        span.textContent = `pid ${p.pid}, uptime ${uptime(now - p.start)}`;
      }
    }, 1000);

    let msgTimer = 0;
    function say(text) {
      if (!msg) return;
      msg.textContent = text;
      msg.classList.remove('hidden');
      msg.classList.add('status_msg');
      msg.classList.toggle('error', /^(ERROR|unexpected|No such)/.test(text));
      addClose();
      clearTimeout(msgTimer);
    }
    function addClose() {
      if (!msg || !msg.textContent || $('button.close', msg)) return;
      const b = frag('<button type="button" class="close" aria-label="Dismiss">\u00d7</button>');
      b.addEventListener('click', () => msg.classList.add('hidden'));
      msg.append(b);
    }
    addClose();

    const why = (f) => ({ 20: 'no such file', 21: 'file not executable', 40: 'abnormal termination', 50: 'spawn error', 60: 'already started' })[f.faultCode] || unexpected(f);
    // Faults `ok` accepts are ignored; network failures always propagate.
    const soft = (p, ok = () => true) => p.catch((f) => { if (f.network || !ok(f)) throw f; });
    async function act(action, ns, g) {
      const r = (m, ...x) => rpc('supervisor.' + m, ...x);
      const grp = async (m, done) => {
        const failed = [].concat(await r(m, g)).filter((x) => x && typeof x.status === 'number' && x.status !== 80)
          .map((x) => `${nsOf(x)}: ${x.description}`);
        return failed.length ? `ERROR: Group ${g}: ${failed.join('; ')}` : `Group ${g} ${done}`;
      };
      const perr = (f) => (f.faultCode === 10 ? `No such process named ${ns}` : `ERROR: Process ${ns}: ${why(f)}`);
      const gerr = (f) => (f.faultCode === 10 ? `No such group named ${g}` : `ERROR: Group ${g}: ${unexpected(f)}`);
      const uerr = (f) => (f.faultCode === 10 ? `No such process named ${ns}` : unexpected(f));
      const [run, fail] = {
        refresh: [async () => `Page refreshed at ${ctime()}`],
        stopall: [async () => { await r('stopAllProcesses'); return `All stopped at ${ctime()}`; }, unexpected],
        restartall: [async () => {
          await soft(r('stopAllProcesses')); await soft(r('startAllProcesses'));
          return `All restarted at ${ctime()}`;
        }],
        startgroup: [() => grp('startProcessGroup', 'started'), gerr],
        stopgroup: [() => grp('stopProcessGroup', 'stopped'), gerr],
        restartgroup: [async () => {
          await soft(r('stopProcessGroup', g), (f) => f.faultCode !== 10);
          return grp('startProcessGroup', 'restarted');
        }, gerr],
        start: [async () => { await r('startProcess', ns); return `Process ${ns} started`; }, perr],
        restart: [async () => {
          await soft(r('stopProcess', ns), (f) => f.faultCode === 70);
          await r('startProcess', ns);
          return `Process ${ns} restarted`;
        }, perr],
        stop: [async () => { await r('stopProcess', ns); return `Process ${ns} stopped`; }, uerr],
        clearlog: [async () => { await r('clearProcessLogs', ns); return `Log for ${ns} cleared`; }, uerr],
      }[action] || [];
      if (!run) return null;
      try { return await run(); } catch (f) {
        if (f.network || !fail) throw f;
        return fail(f);
      }
    }

    document.addEventListener('click', async (e) => {
      const a = e.target.closest && e.target.closest('a[href]');
      if (!a || a.target === '_blank' || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      const u = new URL(a.href, location.href);
      const action = u.searchParams.get('action');
      if (!action || !/(^|\/)index\.html$/.test(u.pathname) || u.origin !== location.origin) return;
      const ns = u.searchParams.get('processname'), g = u.searchParams.get('groupname');
      e.preventDefault();
      const busy = (ns && a.closest('tr.process')) || (g && a.closest('tbody.group')) || (!ns && !g ? document.body : null) || a;
      if (busy.classList.contains('busy')) return;
      busy.classList.add('busy');
      busy.setAttribute('aria-busy', 'true');
      try {
        const text = await act(action, ns, g);
        if (text === null) { location.href = a.href; return; }
        say(text);
      } catch (f) {
        setLost(f && f.faultString ? f.faultString : 'network error');
      } finally {
        busy.classList.remove('busy');
        busy.removeAttribute('aria-busy');
      }
      await poll(true);
    });

    applyFilter();
    poll();
  }

  /* ---- tail page ---- */
  function tailPage(name) {
    const CAP = 1 << 20;
    const refresh = $('#refresh');
    if (refresh) refresh.classList.add('hidden');
    const errLog = $('#stderr-log');
    if (errLog) errLog.classList.remove('hidden');
    document.body.classList.add('following');
    const live = frag('<span id="live" class="live">connecting</span>');
    const hdr = $('#header');
    if (hdr) hdr.append(live);
    const status = new Map();
    const showStatus = () => {
      const states = [...status.values()];
      const ok = states.length && states.every(Boolean);
      live.textContent = ok ? 'live' : 'reconnecting';
      live.classList.toggle('down', !ok);
    };

    async function follow(url, pre) {
      for (;;) {
        let first = true;
        try {
          const r = await fetch(url, { cache: 'no-store' });
          if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
          status.set(url, true); showStatus();
          const reader = r.body.getReader(), td = new TextDecoder();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            const text = td.decode(value, { stream: true });
            if (text) { append(pre, text, first); first = false; }
          }
        } catch { /* reconnect below */ }
        status.set(url, false); showStatus();
        await new Promise((res) => setTimeout(res, 1500));
      }
    }
    function append(pre, text, replace) {
      const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 8;
      const pageBottom = window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 8;
      if (replace) pre.textContent = text;
      else pre.append(document.createTextNode(text));
      pre._len = replace ? text.length : (pre._len || 0) + text.length;
      if (pre._len > CAP) { pre.textContent = pre.textContent.slice(-CAP); pre._len = pre.textContent.length; }
      if (atBottom) pre.scrollTop = pre.scrollHeight;
      if (pageBottom) window.scrollTo(0, document.documentElement.scrollHeight);
    }
    const base = `logtail/${encodeURIComponent(name)}`;
    const out = $('#stdout'), err = $('#stderr');
    if (out) { out.scrollTop = out.scrollHeight; status.set(base, false); follow(base, out); }
    if (err) { status.set(base + '/stderr', false); follow(base + '/stderr', err); }
  }

  function frag(html) { const t = document.createElement('template'); t.innerHTML = html; return t.content.firstElementChild; }

  const b = document.body;
  if (b.classList.contains('status-page')) statusPage();
  else if (b.classList.contains('tail-page') && b.dataset.processname) tailPage(b.dataset.processname);
})();
