#!/usr/bin/env node
// test/browser/check_report.js: load an HTML page in headless Chromium and
// report what a reader would see, as JSON on stdout.  Used by
// t/007_report_html.pl.
//
//   node check_report.js CHROMIUM PAGE.html SHOT.png PROFILE_DIR [WIDTH]
//
// It speaks the DevTools protocol over --remote-debugging-pipe (file
// descriptors 3 and 4, one NUL-terminated JSON message each), so it needs
// no npm package and no WebSocket client: only Node (18 or later) and
// Chromium.  Chromium runs with --no-sandbox: the tests run as an
// unprivileged OS user in containers where the user namespaces its sandbox
// needs are often unavailable, and the page is a local file dbopt wrote,
// with no scripts of its own.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const [chromium, page, shot, profile, widthArg] = process.argv.slice(2);
if (!chromium || !page || !shot || !profile) {
  process.stderr.write('usage: check_report.js CHROMIUM PAGE.html SHOT.png PROFILE_DIR [WIDTH]\n');
  process.exit(2);
}
const width = parseInt(widthArg || '1600', 10);

const browser = spawn(chromium, [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
  '--no-first-run', '--no-default-browser-check', '--disable-extensions',
  '--hide-scrollbars', '--mute-audio', '--remote-debugging-pipe',
  `--user-data-dir=${profile}`, 'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
let browserLog = '';
browser.stderr.on('data', (d) => { browserLog += d; });
const toBrowser = browser.stdio[3];
const fromBrowser = browser.stdio[4];

const timer = setTimeout(() => fail('timed out after 90 s'), 90000);
function fail(message) {
  process.stderr.write(`check_report.js: ${message}\n${browserLog.slice(-4000)}\n`);
  try { browser.kill('SIGKILL'); } catch (e) { /* already gone */ }
  process.exit(1);
}
browser.on('error', (e) => fail(`cannot start ${chromium}: ${e.message}`));
browser.on('exit', (code, signal) => { if (!done) fail(`Chromium exited (${code ?? signal})`); });
let done = false;

// The protocol: requests by id, events to whoever waits for them.
let nextId = 0;
const pending = new Map();
const waiters = [];
const events = { console: [], exceptions: [], log: [] };
let inbox = Buffer.alloc(0);
fromBrowser.on('data', (chunk) => {
  inbox = Buffer.concat([inbox, chunk]);
  let end;
  while ((end = inbox.indexOf(0)) >= 0) {
    const msg = JSON.parse(inbox.subarray(0, end).toString('utf8'));
    inbox = inbox.subarray(end + 1);
    if (msg.id !== undefined && pending.has(msg.id)) {
      const { resolve, reject, method } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) reject(new Error(`${method}: ${msg.error.message}`));
      else resolve(msg.result);
    } else if (msg.method) {
      onEvent(msg);
    }
  }
});
function send(method, params = {}, sessionId) {
  const id = ++nextId;
  const msg = { id, method, params };
  if (sessionId) msg.sessionId = sessionId;
  toBrowser.write(JSON.stringify(msg) + '\0');
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
}
function onEvent(msg) {
  const p = msg.params || {};
  if (msg.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert'))
    events.console.push((p.args || []).map((a) => a.value ?? a.description ?? '').join(' '));
  else if (msg.method === 'Runtime.exceptionThrown')
    events.exceptions.push(p.exceptionDetails?.exception?.description || p.exceptionDetails?.text || 'exception');
  else if (msg.method === 'Log.entryAdded' && p.entry?.level === 'error')
    events.log.push(`${p.entry.source}: ${p.entry.text}${p.entry.url ? ' ' + p.entry.url : ''}`);
  for (let i = waiters.length - 1; i >= 0; i--)
    if (waiters[i].method === msg.method) { waiters[i].resolve(p); waiters.splice(i, 1); }
}
function waitFor(method) {
  return new Promise((resolve) => waiters.push({ method, resolve }));
}

// What is measured in the page, in CSS pixels of the viewport.
const measure = `(async () => {
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const rect = (e) => { const b = e.getBoundingClientRect(); return { left: b.left, right: b.right, top: b.top, bottom: b.bottom, width: b.width, height: b.height }; };
  const overlaps = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const charts = [...document.querySelectorAll('svg')].map((svg) => {
    const box = rect(svg);
    const plot = svg.querySelector('rect.plot');
    const lines = [...svg.querySelectorAll('polyline, path')].map((el) => {
      const cs = getComputedStyle(el);
      return {
        data: (el.getAttribute('points') || el.getAttribute('d') || '').trim().length,
        visible: cs.visibility === 'visible' && cs.display !== 'none' && cs.stroke !== 'none'
          && parseFloat(cs.strokeWidth) > 0 && parseFloat(cs.opacity) > 0,
        ...rect(el),
      };
    });
    const labels = (sel) => [...svg.querySelectorAll(sel)].map((t) => ({ text: t.textContent, ...rect(t) }));
    const xl = labels('text.xl'), yl = labels('text.yl');
    let labelOverlaps = 0;
    for (const set of [xl, yl])
      for (let i = 0; i < set.length; i++)
        for (let j = i + 1; j < set.length; j++)
          if (overlaps(set[i], set[j])) labelOverlaps++;
    const texts = [...svg.querySelectorAll('text')].map(rect);
    const fig = svg.closest('figure');
    const cap = fig && fig.querySelector('figcaption');
    return {
      title: (svg.querySelector('title') || {}).textContent || '',
      box, plot: plot ? rect(plot) : null, lines,
      xLabels: xl.map((t) => t.text), yLabels: yl.map((t) => t.text), labelOverlaps,
      textsOutside: texts.filter((t) => t.left < box.left - 0.5 || t.right > box.right + 0.5
        || t.top < box.top - 0.5 || t.bottom > box.bottom + 0.5).length,
      caption: cap ? cap.textContent : '',
      captionOverflows: cap ? cap.scrollWidth > cap.clientWidth + 1 : false,
    };
  });
  return {
    viewportWidth: innerWidth, docWidth: document.documentElement.scrollWidth,
    docHeight: document.documentElement.scrollHeight,
    sections: [...document.querySelectorAll('h2')].map((h) => h.textContent),
    charts,
  };
})()`;

(async () => {
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  const s = (method, params) => send(method, params, sessionId);
  await s('Page.enable');
  await s('Runtime.enable');
  await s('Log.enable');
  await s('Emulation.setDeviceMetricsOverride', { width, height: 1000, deviceScaleFactor: 1, mobile: false });
  const loaded = waitFor('Page.loadEventFired');
  const nav = await s('Page.navigate', { url: 'file://' + path.resolve(page) });
  if (nav.errorText) fail(`cannot load ${page}: ${nav.errorText}`);
  await loaded;
  const r = await s('Runtime.evaluate', { expression: measure, awaitPromise: true, returnByValue: true });
  if (r.exceptionDetails) fail(`measuring failed: ${JSON.stringify(r.exceptionDetails)}`);
  const result = r.result.value;
  // The whole page in one image, at the same width.
  const height = Math.min(Math.ceil(result.docHeight), 16000);
  await s('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false });
  const { data } = await s('Page.captureScreenshot', { format: 'png' });
  fs.writeFileSync(shot, Buffer.from(data, 'base64'));
  result.consoleErrors = events.console;
  result.pageErrors = events.exceptions;
  result.logErrors = events.log;
  done = true;
  await send('Browser.close').catch(() => {});
  clearTimeout(timer);
  process.stdout.write(JSON.stringify(result) + '\n');
  setTimeout(() => { try { browser.kill('SIGKILL'); } catch (e) { /* gone */ } process.exit(0); }, 2000).unref();
})().catch((e) => fail(e.stack || String(e)));
