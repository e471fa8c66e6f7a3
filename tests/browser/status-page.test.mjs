// The public status page in a real headless Chromium, as a person sees it on a desktop and
// on a phone (light and dark): the overall status, every component's name and status word,
// the open incident with its timeline, 90 labelled uptime bars per component that fit the
// phone's width, readable contrast, no request leaving the site and no console error.
//
// Run by scripts/browser-test, which provides:
//   STATUS_PAGE_FIXTURE  the built `status-page-fixture` binary (prints its URL, serves until
//                        its stdin closes)
//   CHROMIUM_PATH        the Chromium executable
//   BROWSER_TEST_OUT     where screenshots go (default: target/browser in the repository)

import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixturePath = process.env.STATUS_PAGE_FIXTURE;
const chromiumPath = process.env.CHROMIUM_PATH;
const outDir = process.env.BROWSER_TEST_OUT ?? path.resolve(here, '../../target/browser');

// What the fixture seeded (tests/src/bin/status-page-fixture.rs).
const EXPECTED = {
  service: 'Acme Cloud',
  overall: 'Partial outage',
  components: [
    { name: 'Public API', status: 'Down' },
    { name: 'Dashboard', status: 'Operational' },
    { name: 'Webhooks', status: 'Degraded' },
  ],
  openIncident: {
    title: 'Public API is degraded',
    updates: ['Public API is down.', 'Public API is responding slowly. We are investigating.'],
  },
  resolvedIncident: 'Dashboard is down',
  maintenance: 'Webhooks delivery pipeline upgrade',
  days: 90,
  minContrast: 4.5,
};

const VIEWPORTS = [
  { name: 'desktop', viewport: { width: 1280, height: 900 }, scheme: 'light' },
  {
    name: 'phone',
    viewport: { width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
    scheme: 'light',
    narrowest: 360,
  },
  {
    name: 'phone-dark',
    viewport: { width: 390, height: 844, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
    scheme: 'dark',
  },
];

const failures = [];
const passed = [];

function check(ok, what, detail = '') {
  if (ok) {
    passed.push(what);
  } else {
    failures.push(detail ? `${what}: ${detail}` : what);
  }
}

function fatal(message) {
  console.error(`browser test: ${message}`);
  process.exit(1);
}

if (!fixturePath) fatal('STATUS_PAGE_FIXTURE is not set (run scripts/browser-test)');
if (!chromiumPath) fatal('CHROMIUM_PATH is not set (run scripts/browser-test)');

// A hung browser or fixture must fail the run, not stall it.
const watchdog = setTimeout(() => fatal('timed out after 180 s'), 180_000);
watchdog.unref();

/** Starts the fixture and resolves with its URL, read from its first stdout line. */
function startFixture() {
  const child = spawn(fixturePath, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const url = new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => resolve(line.trim()));
    child.once('error', (e) => reject(new Error(`could not start the fixture: ${e.message}`)));
    child.once('exit', (code) => reject(new Error(`the fixture exited early with ${code}`)));
  });
  return { child, url };
}

/** Closes the fixture's stdin and waits for it to exit; resolves with its exit code. */
function stopFixture(child) {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('killed after 10 s');
    }, 10_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.stdin.end();
  });
}

/** The text a screen reader reads inside an accessibility tree node. */
function spoken(node) {
  if (node.role === 'StaticText') return node.name ?? '';
  return (node.children ?? []).map(spoken).join('');
}

/**
 * Each component's bar list as assistive technology gets it, from Chromium's accessibility
 * tree: a text hidden with `display: none` or an unlabelled list would show here, not in the
 * DOM.
 */
async function barTrees(page) {
  const trees = [];
  for (const row of await page.$$('.component')) {
    const list = await row.$('ol.bars');
    const tree = list ? await page.accessibility.snapshot({ root: list, interestingOnly: false }) : null;
    trees.push({
      role: tree?.role ?? '',
      name: tree?.name ?? '',
      items: (tree?.children ?? []).filter((n) => n.role === 'listitem').map((n) => n.name || spoken(n)),
    });
  }
  return trees;
}

/** Everything about the page that the assertions need, read inside the browser. */
function readPage() {
  const visible = (el) => {
    if (!el) return false;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return (
      box.width > 0 &&
      box.height > 0 &&
      style.visibility !== 'hidden' &&
      el.checkVisibility({ opacityProperty: true, visibilityProperty: true, contentVisibilityAuto: true })
    );
  };
  const text = (el) => (el ? el.innerText.replace(/\s+/g, ' ').trim() : '');
  const rgba = (value) => {
    const m = value.match(/^rgba?\(([\d.]+)[, ]+([\d.]+)[, ]+([\d.]+)(?:[,/ ]+([\d.]+%?))?\)$/);
    if (!m) return null;
    let alpha = m[4] === undefined ? 1 : parseFloat(m[4]);
    if (m[4]?.endsWith('%')) alpha /= 100;
    return [+m[1], +m[2], +m[3], alpha];
  };
  // The colour actually behind an element: the first opaque background up the tree, with
  // translucent ones above it blended in.
  const background = (el) => {
    const layers = [];
    for (let node = el; node; node = node.parentElement) {
      const colour = rgba(getComputedStyle(node).backgroundColor);
      if (colour === null) return null;
      if (colour[3] > 0) layers.push(colour);
      if (colour[3] >= 1) break;
    }
    let base = [255, 255, 255];
    for (const [r, g, b, a] of layers.reverse()) {
      base = [r * a + base[0] * (1 - a), g * a + base[1] * (1 - a), b * a + base[2] * (1 - a)];
    }
    return base;
  };
  const luminance = ([r, g, b]) => {
    const f = (c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const contrast = (el) => {
    const fg = rgba(getComputedStyle(el).color);
    const bg = background(el);
    if (!fg || !bg) return { ratio: 0, fg: getComputedStyle(el).color, bg: String(bg) };
    const blended = [0, 1, 2].map((i) => fg[i] * fg[3] + bg[i] * (1 - fg[3]));
    const [hi, lo] = [luminance(blended), luminance(bg)].sort((a, b) => b - a);
    return { ratio: (hi + 0.05) / (lo + 0.05), fg: getComputedStyle(el).color, bg: `rgb(${bg.map(Math.round)})` };
  };

  const banner = document.querySelector('.banner .overall');
  const components = [...document.querySelectorAll('.component')].map((row) => {
    const name = row.querySelector('.component-name');
    const status = row.querySelector('.component-status .status-word');
    const list = row.querySelector('ol.bars');
    const bars = list ? [...list.children] : [];
    return {
      name: text(name),
      nameVisible: visible(name),
      status: text(status),
      statusVisible: visible(status),
      statusContrast: status ? contrast(status) : { ratio: 0 },
      bars: bars.map((bar) => {
        const box = bar.getBoundingClientRect();
        return {
          tag: bar.tagName,
          text: bar.textContent.trim(),
          // What a mouse shows.
          title: bar.getAttribute('title') ?? '',
          visible: visible(bar),
          left: box.left,
          right: box.right,
          colour: getComputedStyle(bar).backgroundColor,
        };
      }),
      uptime: text(row.querySelector('.scale .uptime')),
    };
  });
  const incidents = [...document.querySelectorAll('article.incident')].map((card) => ({
    title: text(card.querySelector('.incident-title')),
    titleVisible: visible(card.querySelector('.incident-title')),
    updates: [...card.querySelectorAll('.timeline li')].map((li) => ({
      // The words themselves, whether shown or not: `visible` says whether they are.
      text: li.textContent.replace(/\s+/g, ' ').trim(),
      visible: visible(li),
      time: li.querySelector('time')?.getAttribute('datetime') ?? '',
    })),
  }));
  const maintenance = [...document.querySelectorAll('article.maintenance h3')].map((h) => ({
    title: text(h),
    visible: visible(h),
  }));
  return {
    title: document.title,
    lang: document.documentElement.lang,
    bannerText: text(banner),
    bannerVisible: visible(banner),
    bannerContrast: banner ? contrast(banner) : { ratio: 0 },
    components,
    incidents,
    maintenance,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    clientWidth: document.documentElement.clientWidth,
    scripts: document.querySelectorAll('script').length,
  };
}

async function visit(browser, origin, { name, viewport, scheme, narrowest }) {
  const page = await browser.newPage();
  const requests = [];
  const consoleErrors = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  page.on('requestfailed', (request) =>
    consoleErrors.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`),
  );
  await page.setViewport(viewport);
  await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
  const response = await page.goto(`${origin}/`, { waitUntil: 'networkidle0' });
  check(response?.status() === 200, `${name}: the page answers 200`, `got ${response?.status()}`);
  check(
    (response?.headers()['content-security-policy'] ?? '').includes("default-src 'none'"),
    `${name}: the page is served with its Content-Security-Policy`,
  );

  const file = path.join(outDir, `status-page-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  const seen = await page.evaluate(readPage);
  const trees = await barTrees(page);
  // A phone zooms out to fit a page that is too wide, which widens innerWidth with it: the
  // width the page must fit is the device's.
  const fits = (state, width) => Math.min(state.innerWidth, state.clientWidth, width);
  const width = fits(seen, viewport.width);

  check(seen.title === `${EXPECTED.service} status`, `${name}: title`, `got "${seen.title}"`);
  check(seen.lang === 'en', `${name}: lang="en"`, `got "${seen.lang}"`);
  check(seen.scripts === 0, `${name}: no script elements`, `${seen.scripts} found`);
  check(
    seen.bannerVisible && seen.bannerText === EXPECTED.overall,
    `${name}: the banner shows "${EXPECTED.overall}"`,
    `visible=${seen.bannerVisible} text="${seen.bannerText}"`,
  );
  check(
    seen.bannerContrast.ratio >= EXPECTED.minContrast,
    `${name}: banner contrast ≥ ${EXPECTED.minContrast}`,
    `${seen.bannerContrast.ratio.toFixed(2)} (${seen.bannerContrast.fg} on ${seen.bannerContrast.bg})`,
  );

  check(
    seen.components.length === EXPECTED.components.length,
    `${name}: ${EXPECTED.components.length} components listed`,
    `found ${seen.components.length}`,
  );
  for (const expected of EXPECTED.components) {
    const index = seen.components.findIndex((c) => c.name === expected.name);
    const row = seen.components[index];
    const tree = trees[index];
    check(row?.nameVisible, `${name}: component "${expected.name}" visible`);
    if (!row) continue;
    check(
      // Its text may start with the status's symbol (✓, !, ✕), which is decoration.
      row.statusVisible && row.status.replace(/^[^\p{L}]+/u, '') === expected.status,
      `${name}: "${expected.name}" shows the status word "${expected.status}"`,
      `visible=${row.statusVisible} text="${row.status}"`,
    );
    check(
      row.statusContrast.ratio >= EXPECTED.minContrast,
      `${name}: "${expected.name}" status word contrast ≥ ${EXPECTED.minContrast}`,
      `${row.statusContrast.ratio.toFixed(2)} (${row.statusContrast.fg} on ${row.statusContrast.bg})`,
    );
    check(
      row.bars.length === EXPECTED.days && row.bars.every((b) => b.tag === 'LI'),
      `${name}: "${expected.name}" has exactly ${EXPECTED.days} uptime bars`,
      `found ${row.bars.length}`,
    );
    check(
      tree.role === 'list' && tree.name.includes(expected.name) && /90 days/.test(tree.name),
      `${name}: "${expected.name}" bars are a list named for the component and the 90 days`,
      `role=${tree.role} name="${tree.name}"`,
    );
    const dayLabel = /^\d{1,2} [A-Z][a-z]{2} \d{4}: (No data|No downtime|Degraded performance|Partial outage|Major outage|Maintenance)(, [\d.]+% uptime)?$/;
    const unspoken = tree.items.filter((text) => !dayLabel.test(text));
    check(
      tree.items.length === EXPECTED.days && unspoken.length === 0,
      `${name}: every "${expected.name}" bar has a text alternative in the accessibility tree`,
      `${tree.items.length} items, ${unspoken.length} without a day's text, e.g. "${unspoken[0]}"`,
    );
    const untitled = row.bars.filter((b, i) => !dayLabel.test(b.title) || b.title !== tree.items[i]);
    check(
      untitled.length === 0,
      `${name}: every "${expected.name}" bar shows the same text as a tooltip`,
      `${untitled.length} differ, e.g. title="${untitled[0]?.title}"`,
    );
    const hidden = row.bars.filter((b) => !b.visible);
    check(hidden.length === 0, `${name}: every "${expected.name}" bar is visible`, `${hidden.length} hidden`);
    const outside = row.bars.filter((b) => b.left < 0 || b.right > width);
    check(
      outside.length === 0,
      `${name}: every "${expected.name}" bar is within the viewport`,
      `${outside.length} outside 0..${width}, e.g. ${outside[0]?.left}..${outside[0]?.right}`,
    );
    check(
      /^\d+(\.\d+)?% uptime$/.test(row.uptime),
      `${name}: "${expected.name}" states its uptime in text`,
      `got "${row.uptime}"`,
    );
  }
  // The seeded bad days must show as such, not as a row of identical bars.
  const api = seen.components.find((c) => c.name === 'Public API');
  if (api?.bars.length === EXPECTED.days) {
    check(
      api.bars[EXPECTED.days - 1].text.includes('Major outage') &&
        api.bars[EXPECTED.days - 1].colour !== api.bars[0].colour,
      `${name}: today's Public API bar shows the outage, in text and colour`,
      `"${api.bars[EXPECTED.days - 1].text}" ${api.bars[EXPECTED.days - 1].colour} vs ${api.bars[0].colour}`,
    );
  }

  const open = seen.incidents.find((i) => i.title === EXPECTED.openIncident.title);
  check(open?.titleVisible, `${name}: open incident "${EXPECTED.openIncident.title}" visible`);
  for (const update of EXPECTED.openIncident.updates) {
    const entry = open?.updates.find((u) => u.text.includes(update));
    check(
      entry?.visible && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(entry.time),
      `${name}: timeline entry "${update}" visible with its time`,
      entry ? `visible=${entry.visible} datetime="${entry.time}"` : 'not found',
    );
  }
  check(
    seen.incidents.some((i) => i.title === EXPECTED.resolvedIncident && i.titleVisible),
    `${name}: resolved incident "${EXPECTED.resolvedIncident}" visible`,
  );
  check(
    seen.maintenance.some((m) => m.title === EXPECTED.maintenance && m.visible),
    `${name}: maintenance "${EXPECTED.maintenance}" visible`,
  );

  check(
    seen.scrollWidth <= width,
    `${name}: no horizontal scrolling`,
    `scrollWidth ${seen.scrollWidth} > ${width} (innerWidth ${seen.innerWidth}, clientWidth ${seen.clientWidth})`,
  );
  if (narrowest) {
    await page.setViewport({ ...viewport, width: narrowest });
    const narrow = await page.evaluate(readPage);
    const narrowWidth = fits(narrow, narrowest);
    check(
      narrow.scrollWidth <= narrowWidth,
      `${name}: no horizontal scrolling at ${narrowest} px either`,
      `scrollWidth ${narrow.scrollWidth} > ${narrowWidth} (innerWidth ${narrow.innerWidth})`,
    );
    const bars = narrow.components.flatMap((c) => c.bars);
    check(
      bars.length === EXPECTED.days * EXPECTED.components.length &&
        bars.every((b) => b.visible && b.left >= 0 && b.right <= narrowWidth),
      `${name}: every bar visible and within ${narrowest} px`,
    );
  }

  const foreign = requests.filter((url) => !url.startsWith(`${origin}/`));
  check(requests.length > 0 && foreign.length === 0, `${name}: every request goes to the fixture`, foreign.join(', '));
  check(consoleErrors.length === 0, `${name}: no console errors`, consoleErrors.join(' | '));
  await page.close();
  return file;
}

async function main() {
  await mkdir(outDir, { recursive: true });
  const fixture = startFixture();
  let browser;
  const screenshots = [];
  try {
    const origin = await fixture.url;
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(origin)) {
      throw new Error(`the fixture's first line is not its URL: "${origin}"`);
    }
    const args = ['--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions'];
    // Chromium refuses to run its sandbox as root (CI runs as root).
    if (process.getuid?.() === 0) args.push('--no-sandbox');
    browser = await puppeteer.launch({ executablePath: chromiumPath, headless: true, args });
    const version = await browser.version();
    for (const setup of VIEWPORTS) {
      screenshots.push(await visit(browser, origin, setup));
    }
    console.log(`browser test: ${version}, ${origin}`);
  } finally {
    await browser?.close();
    const code = await stopFixture(fixture.child);
    check(code === 0, 'the fixture exits 0 when its stdin closes', `exit ${code}`);
  }
  if (failures.length > 0) {
    console.error(`browser test: ${failures.length} failed, ${passed.length} passed`);
    for (const failure of failures) console.error(`  FAIL ${failure}`);
    process.exit(1);
  }
  for (const file of screenshots) console.log(`  screenshot ${path.relative(process.cwd(), file)}`);
  console.log(`${passed.length} passed, 0 failed`);
}

main().catch((error) => fatal(error.stack ?? String(error)));
