// Quarry report: the notables table (sort, filter, pages) and its evidence panels.
// Every value from the case is set with textContent, never parsed as HTML.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('quarry-data').textContent);
  var PAGE = 100;
  var all = data.notables;
  var view = all.slice();
  var sortKey = 'score';
  var sortDir = -1;
  var page = 0;
  var filter = '';
  var table = document.getElementById('notables-table');
  var tbody = table.querySelector('tbody');
  var count = document.getElementById('notables-count');
  var pager = document.getElementById('notables-pager');
  var KEYS = ['rule', 'dest', 'user', 'process', 'parent', 'count', 'first', 'last', 'score'];

  all.forEach(function (n) {
    n.text = KEYS.map(function (k) { return n[k] === null ? '' : String(n[k]); }).join('\n')
        .toLowerCase();
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function compare(a, b) {
    var x = a[sortKey], y = b[sortKey];
    if (x === y) return 0;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    if (typeof x === 'number' && typeof y === 'number') return (x - y) * sortDir;
    x = String(x); y = String(y);
    return x < y ? -sortDir : (x > y ? sortDir : 0);
  }

  function pairs(dl, list) {
    list.forEach(function (p) {
      if (p[1] === null || p[1] === undefined || p[1] === '') return;
      dl.appendChild(el('dt', '', p[0]));
      dl.appendChild(el('dd', '', p[1]));
    });
  }

  function processLine(p) {
    return p.time + '  ' + (p.process_name || '?') + ' (pid ' + p.process_id + ')  ' +
        (p.process || '');
  }

  function evidencePanel(n) {
    var box = el('div', 'evidence');
    box.appendChild(el('h4', '', n.rule));
    var dl = el('dl');
    Object.keys(n.fields).forEach(function (k) {
      var v = n.fields[k];
      pairs(dl, [[k, Array.isArray(v) ? v.join('\n') : v]]);
    });
    box.appendChild(dl);
    if (!n.evidence) {
      box.appendChild(el('p', 'muted', data.evidenceNote));
      return box;
    }
    if (n.evidenceUnbounded) {
      box.appendChild(el('p', 'muted', 'This result carries no time, so the events shown are ' +
          'those matching its fields at any time.'));
    }
    if (n.evidence.length === 0) box.appendChild(el('p', 'muted', 'No stored event matches this result.'));
    n.evidence.forEach(function (ev, i) {
      box.appendChild(el('h4', '', 'Event ' + (i + 1) + ': ' + ev.time + ' ' + ev.sourcetype));
      var d = el('dl');
      pairs(d, [['dest', ev.dest], ['user', ev.user], ['process', ev.process],
                ['process_id', ev.process_id], ['parent', ev.parent_process_name],
                ['parent_process_id', ev.parent_process_id], ['file', ev.file],
                ['sha256', ev.sha256], ['record id', ev.record_id], ['line', ev.line],
                ['byte offset', ev.offset], ['process seen by', ev.seen_by],
                ['also read from', ev.copy_count ? ev.copy_count + ' other file(s): ' + ev.copies : null]]);
      box.appendChild(d);
      box.appendChild(el('pre', 'raw', ev.raw));
      if (ev.context) {
        var ctx = el('div', 'context');
        ctx.appendChild(el('h4', '', 'Process context on ' + ev.dest));
        var ul = el('ul');
        ev.context.parents.forEach(function (p) { ul.appendChild(el('li', 'parent', 'parent: ' + processLine(p))); });
        ul.appendChild(el('li', 'self', 'this: ' + processLine(ev)));
        ev.context.children.forEach(function (p) { ul.appendChild(el('li', 'child', 'child: ' + processLine(p))); });
        ctx.appendChild(ul);
        box.appendChild(ctx);
      }
    });
    return box;
  }

  function toggle(n, tr, button) {
    var next = tr.nextSibling;
    if (next && next.classList && next.classList.contains('evidence-row')) {
      next.parentNode.removeChild(next);
      button.textContent = 'evidence';
      return;
    }
    var row = el('tr', 'evidence-row');
    var td = el('td');
    td.colSpan = KEYS.length + 1;
    td.appendChild(evidencePanel(n));
    row.appendChild(td);
    tr.parentNode.insertBefore(row, tr.nextSibling);
    button.textContent = 'hide';
  }

  function render() {
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    var pages = Math.max(1, Math.ceil(view.length / PAGE));
    page = Math.min(page, pages - 1);
    view.slice(page * PAGE, page * PAGE + PAGE).forEach(function (n) {
      var tr = el('tr', 'notable');
      KEYS.forEach(function (k) {
        var td = el('td', k + (k === 'count' || k === 'score' ? ' num' : ''), n[k]);
        if (k === 'rule') td.title = n.severity;
        tr.appendChild(td);
      });
      var cell = el('td');
      var button = el('button', 'evidence-toggle', 'evidence');
      button.type = 'button';
      button.addEventListener('click', function () { toggle(n, tr, button); });
      cell.appendChild(button);
      tr.appendChild(cell);
      tbody.appendChild(tr);
    });
    count.textContent = (filter ? view.length + ' of ' + all.length : all.length) + ' notables' +
        (pages > 1 ? ' (page ' + (page + 1) + ' of ' + pages + ')' : '');
    pager.querySelector('.page-prev').disabled = page === 0;
    pager.querySelector('.page-next').disabled = page >= pages - 1;
    table.querySelectorAll('th[data-key]').forEach(function (th) {
      th.classList.remove('asc', 'desc');
      if (th.getAttribute('data-key') === sortKey) th.classList.add(sortDir > 0 ? 'asc' : 'desc');
    });
  }

  function update() {
    view = all.filter(function (n) { return !filter || n.text.indexOf(filter) >= 0; });
    view.sort(compare);
    render();
  }

  table.querySelectorAll('th[data-key]').forEach(function (th) {
    th.addEventListener('click', function () {
      var key = th.getAttribute('data-key');
      sortDir = key === sortKey ? -sortDir : 1;
      sortKey = key;
      page = 0;
      update();
    });
  });
  document.getElementById('notables-filter').addEventListener('input', function (e) {
    filter = e.target.value.toLowerCase();
    page = 0;
    update();
  });
  pager.querySelector('.page-prev').addEventListener('click', function () { page -= 1; render(); });
  pager.querySelector('.page-next').addEventListener('click', function () { page += 1; render(); });
  update();
})();
