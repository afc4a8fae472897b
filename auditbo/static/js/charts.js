/* Charts drawn from their own data tables (issue 17): no inline script, no network.
 *
 * <div data-chart="bar|stacked|line|interval" data-chart-table="ID" data-x-label=".." data-y-label=".."
 *      data-series-from="1" data-series-to="4" data-skip-rows="0" data-percent="1"></div>
 * reads the table #ID (the same table a person opens behind the "Data table" toggle): the first
 * column is the category axis, the header cells of columns [from, to) name the series, and each
 * cell's data-value is its number (empty: no value). A click on a bar or point follows the link of
 * the table cell it stands for (the drill-down). Tooltips are drawn on the canvas (richText), so no
 * HTML with style attributes is made and the strict CSP holds. The chart's element gets
 * data-chart-drawn="1" once drawn (the browser test looks for it).
 */
(function () {
  'use strict';

  function cellNumber(td) {
    if (!td) { return null; }
    var v = td.getAttribute('data-value');
    if (v === null || v === '' || v === 'None') { return null; }
    var n = Number(v);
    return isNaN(n) ? null : n;
  }

  function cellHref(td) {
    var a = td && td.querySelector('a[href]');
    return a ? a.getAttribute('href') : null;
  }

  function readTable(table, from, to, skip) {
    var heads = Array.prototype.map.call(table.tHead.rows[0].cells, function (c) { return c.textContent.trim(); });
    var rows = Array.prototype.slice.call(table.tBodies[0].rows, skip);
    var last = to || heads.length;
    var series = [];
    for (var i = from; i < last; i++) {
      series.push({
        name: heads[i],
        data: rows.map(function (r) { return cellNumber(r.cells[i]); }),
        links: rows.map(function (r) { return cellHref(r.cells[i]); })
      });
    }
    return {
      categories: rows.map(function (r) { return r.cells[0].textContent.trim(); }),
      series: series
    };
  }

  function option(el, data) {
    var kind = el.getAttribute('data-chart');
    var percent = el.getAttribute('data-percent') === '1';
    var fmt = percent ? function (v) { return Math.round(v * 1000) / 10 + '%'; } : null;
    var many = data.categories.length > 8;
    var series = data.series.map(function (s, i) {
      var out = { name: s.name, data: s.data, type: (kind === 'line' || kind === 'interval') ? 'line' : 'bar' };
      if (kind === 'stacked') { out.stack = 'total'; }
      if (kind === 'interval' && i > 0) { out.lineStyle = { type: 'dashed' }; out.symbol = 'none'; }
      return out;
    });
    return {
      animation: false,
      title: { text: el.getAttribute('data-chart-title') || '', left: 'center', textStyle: { fontSize: 14 } },
      tooltip: { trigger: 'axis', renderMode: 'richText', valueFormatter: fmt || undefined },
      legend: { top: 24, type: 'scroll' },
      grid: { left: 60, right: 20, top: 64, bottom: many ? 110 : 60 },
      xAxis: {
        type: 'category', data: data.categories, name: el.getAttribute('data-x-label') || '',
        nameLocation: 'middle', nameGap: many ? 90 : 30,
        axisLabel: { rotate: many ? 40 : 0, interval: 0, width: 120, overflow: 'truncate' }
      },
      yAxis: {
        type: 'value', name: el.getAttribute('data-y-label') || '', nameLocation: 'middle', nameGap: 45,
        axisLabel: fmt ? { formatter: fmt } : {}
      },
      series: series
    };
  }

  function draw(el) {
    var table = document.getElementById(el.getAttribute('data-chart-table'));
    if (!table || !window.echarts) { return; }
    var from = parseInt(el.getAttribute('data-series-from') || '1', 10);
    var to = parseInt(el.getAttribute('data-series-to') || '0', 10) || null;
    var skip = parseInt(el.getAttribute('data-skip-rows') || '0', 10);
    var data = readTable(table, from, to, skip);
    el.style.height = (el.getAttribute('data-height') || '340') + 'px';
    var chart = window.echarts.init(el, null, { renderer: 'canvas' });
    chart.setOption(option(el, data));
    chart.on('click', function (p) {
      var s = data.series[p.seriesIndex];
      var href = s && s.links[p.dataIndex];
      if (href) { window.location.assign(href); }
    });
    window.addEventListener('resize', function () { chart.resize(); });
    el.setAttribute('data-chart-drawn', '1');
  }

  function drawAll() {
    Array.prototype.forEach.call(document.querySelectorAll('[data-chart]'), draw);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', drawAll);
  } else {
    drawAll();
  }
}());
